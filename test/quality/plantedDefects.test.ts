import { describe, expect, it } from "vitest";
import { defineSuite, expectations as x, parseSuite, validateVersion } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import {
  CAUGHT_BY,
  CLEAN_ROWS,
  EXCHANGES,
  PLANTED,
  PLANTED_ROWS,
  PLANTED_SUITE_YAML,
  commitRows,
  tempLake,
} from "./fixtures.ts";

const tempDir = useTempDirs();

async function plantedLake() {
  const lake = await tempLake(await tempDir());
  await commitRows(lake, "curated", "exchanges", EXCHANGES);
  await commitRows(lake, "raw", "trades", PLANTED_ROWS);
  return lake;
}

describe("expectations over a dataset with planted defects", () => {
  it("each row-level expectation catches exactly its planted rows, with samples", async () => {
    const lake = await plantedLake();
    const result = await validateVersion(lake, parseSuite(PLANTED_SUITE_YAML, "quality/raw.trades.yaml"));
    expect(result.status).toBe("fail");
    expect(result.rowCount).toBe(100 + Object.values(PLANTED).reduce((a, b) => a + b, 0));
    for (const r of result.results) {
      const tag = CAUGHT_BY[r.expectation]!;
      expect({ name: r.expectation, success: r.success, unexpected: r.unexpectedCount }).toEqual({
        name: r.expectation,
        success: false,
        unexpected: PLANTED[tag],
      });
      expect(r.sampleRows.map((row) => row.tag)).toEqual(Array(PLANTED[tag]).fill(tag));
    }
  });

  it("reports element count and unexpected percent over non-null values", async () => {
    const lake = await plantedLake();
    const result = await validateVersion(lake, parseSuite(PLANTED_SUITE_YAML, "quality/raw.trades.yaml"));
    const known = result.results.find((r) => r.expectation === "ticker_known")!;
    // 111 rows, one ticker is NULL: 110 values looked at, 1 of them unexpected.
    expect(known.elementCount).toBe(110);
    expect(known.unexpectedPercent).toBeCloseTo(100 / 110, 3);
    expect(known.location).toBe("quality/raw.trades.yaml:23");
  });

  it("passes every expectation on the clean rows", async () => {
    const lake = await tempLake(await tempDir());
    await commitRows(lake, "curated", "exchanges", EXCHANGES);
    await commitRows(lake, "raw", "trades", CLEAN_ROWS);
    const result = await validateVersion(lake, parseSuite(PLANTED_SUITE_YAML, "quality/raw.trades.yaml"));
    expect(result.results.filter((r) => !r.success)).toEqual([]);
    expect(result.status).toBe("pass");
  });

  it("passes a row-level expectation whose failures stay within mostly", async () => {
    const lake = await plantedLake();
    const suite = defineSuite({
      zone: "raw",
      dataset: "trades",
      expectations: [
        x.inSet("ticker", ["AAA", "BBB", "CCC"], { mostly: 0.99 }),
        x.inSet("ticker", ["AAA"], { id: "strict", mostly: 0.99 }),
      ],
    });
    const [lenient, strict] = (await validateVersion(lake, suite)).results;
    expect(lenient!.success).toBe(true);
    expect(lenient!.unexpectedCount).toBe(1);
    expect(strict!.success).toBe(false);
  });

  it("warn-severity failures give status warn, not fail", async () => {
    const lake = await plantedLake();
    const suite = defineSuite({
      zone: "raw",
      dataset: "trades",
      expectations: [x.notNull("ticker", { severity: "warn" }), x.notNull("id")],
    });
    const result = await validateVersion(lake, suite);
    expect(result.status).toBe("warn");
    expect(result.success).toBe(true);
  });

  it("checks column types and the schema, allowing additive drift only when asked", async () => {
    const lake = await plantedLake();
    const declared = [
      { name: "tag", type: "VARCHAR" },
      { name: "id", type: "INTEGER" },
      { name: "ticker", type: "VARCHAR" },
      { name: "date", type: "DATE" },
      { name: "close", type: "DECIMAL(18,4)" },
    ];
    const suite = defineSuite({
      zone: "raw",
      dataset: "trades",
      expectations: [
        x.columnType("close", "DECIMAL(18,4)"),
        x.columnType("id", "BIGINT", { id: "id_bigint" }),
        x.schema(declared, { id: "drift_allowed", allowAdditional: true }),
        x.schema(declared, { id: "exact" }),
        x.schema([...declared.slice(0, 4), { name: "close", type: "DOUBLE" }], {
          id: "changed",
          allowAdditional: true,
        }),
      ],
    });
    const results = Object.fromEntries(
      (await validateVersion(lake, suite)).results.map((r) => [r.expectation, r]),
    );
    expect(results["column_type(close)"]!.success).toBe(true);
    expect(results.id_bigint!.success).toBe(false);
    expect(results.id_bigint!.observedValue).toBe("INTEGER");
    expect(results.drift_allowed!.success).toBe(true);
    expect(results.exact!.success).toBe(false);
    expect(results.exact!.message).toBe("schema differs: unexpected code, exchange, volume");
    expect(results.changed!.message).toBe("schema differs: changed close DOUBLE -> DECIMAL(18,4)");
  });

  it("checks the row count range and the change against the previous version", async () => {
    const lake = await plantedLake();
    await commitRows(lake, "raw", "trades", `${CLEAN_ROWS} LIMIT 50`);
    const suite = defineSuite({
      zone: "raw",
      dataset: "trades",
      expectations: [
        x.rowCountBetween({ min: 10, max: 60 }),
        x.rowCountBetween({ min: 100 }, { id: "at_least_100" }),
        x.rowCountChange(60, { id: "within_60" }),
        x.rowCountChange(50, { id: "within_50" }),
      ],
    });
    const results = Object.fromEntries(
      (await validateVersion(lake, suite)).results.map((r) => [r.expectation, r]),
    );
    expect(results.row_count_between!.success).toBe(true);
    expect(results.at_least_100!.success).toBe(false);
    // 111 -> 50 rows: -54.955%
    expect(results.within_60!.observedValue).toBeCloseTo(-54.955, 3);
    expect(results.within_60!.success).toBe(true);
    expect(results.within_50!.success).toBe(false);
  });

  it("checks freshness against an injected clock", async () => {
    const lake = await tempLake(await tempDir());
    await commitRows(lake, "raw", "trades", CLEAN_ROWS); // newest date 2024-04-10
    const suite = defineSuite({ zone: "raw", dataset: "trades", expectations: [x.freshness("date", 5)] });
    const at = (iso: string) => validateVersion(lake, suite, { now: () => new Date(iso), store: false });
    const fresh = (await at("2024-04-15T12:00:00Z")).results[0]!;
    const stale = (await at("2024-04-16T00:00:01Z")).results[0]!;
    expect(fresh.observedValue).toBe("2024-04-10");
    expect(fresh.success).toBe(true);
    expect(stale.success).toBe(false);
    expect(stale.message).toContain("6 days before 2024-04-16");
  });
});
