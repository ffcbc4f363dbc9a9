import { describe, expect, it } from "vitest";
import { QualityError } from "../../src/errors.ts";
import { type Lake, listVersionNumbers, maybeHead } from "../../src/lake/index.ts";
import { parquetRelation, promote, withDb } from "../../src/pipeline/index.ts";
import {
  QUARANTINE_REASON,
  defineSuite,
  expectations as x,
  latestGoodVersion,
  parseSuite,
  qualityGate,
  qualityHistory,
  readValidation,
  validateVersion,
  type Suite,
} from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import {
  CLEAN_ROWS,
  EXCHANGES,
  PLANTED,
  PLANTED_ROWS,
  PLANTED_SUITE_YAML,
  commitRows,
  tempLake,
} from "./fixtures.ts";

const tempDir = useTempDirs();

/** The planted suite, retargeted at staging/trades (the promotion's output). */
function stagingSuite(edit: (yaml: string) => string = (y) => y): Suite {
  return parseSuite(
    edit(PLANTED_SUITE_YAML).replace("zone: raw", "zone: staging"),
    "quality/staging.trades.yaml",
  );
}

function promoteTrades(lake: Lake, suite: Suite) {
  return promote(lake, {
    inputs: { trades: { zone: "raw", dataset: "trades" } },
    output: { zone: "staging", dataset: "trades" },
    sql: "SELECT * FROM trades",
    orderBy: ["id", "tag"],
    gate: qualityGate(lake, suite),
  });
}

async function rows(lake: Lake, key: string): Promise<Record<string, unknown>[]> {
  const path = await lake.storage.localPath(key);
  return withDb((db) => db.all(`SELECT * FROM ${parquetRelation([path])}`));
}

async function lakeWithExchanges(): Promise<Lake> {
  const lake = await tempLake(await tempDir());
  await commitRows(lake, "curated", "exchanges", EXCHANGES);
  return lake;
}

describe("promotion gate", () => {
  it("commits a passing candidate with its quality record", async () => {
    const lake = await lakeWithExchanges();
    await commitRows(lake, "raw", "trades", CLEAN_ROWS);
    const { manifest } = await promoteTrades(lake, stagingSuite());
    expect(manifest.quality?.status).toBe("pass");
    expect(manifest.quality?.key).toMatch(/^staging\/trades\/_quality\/.+\.json$/);
    expect((await readValidation(lake, "staging", "trades", manifest.version))?.status).toBe("pass");
  });

  it("blocks a failing candidate and keeps the previous version current", async () => {
    const lake = await lakeWithExchanges();
    await commitRows(lake, "raw", "trades", CLEAN_ROWS);
    await promoteTrades(lake, stagingSuite());
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    const error = await promoteTrades(lake, stagingSuite()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QualityError);
    expect((error as Error).message).toMatch(
      /^staging\/trades failed its quality gate, version 1 stays current: ticker_present/,
    );
    expect(await listVersionNumbers(lake.storage, "staging", "trades")).toEqual([1]);
    expect((await latestGoodVersion(lake, "staging", "trades"))?.version).toBe(1);
    const history = await qualityHistory(lake, "staging", "trades");
    expect(history.map((h) => [h.status, h.version, h.blocked])).toEqual([
      ["pass", 1, false],
      ["fail", null, true],
    ]);
  });

  it("suggests only a validate command that works after a blocked promotion", async () => {
    const lake = await lakeWithExchanges();
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    // The first promotion is blocked: there is no version to validate, so none is suggested.
    const first = (await promoteTrades(lake, stagingSuite()).catch((e: unknown) => e)) as Error;
    expect(first).toBeInstanceOf(QualityError);
    expect(first.message).toContain("version none stays current");
    expect(first.message).toContain("fix the data or the suite and run the promotion again");
    expect(first.message).not.toContain("lakebook validate");
    expect(first.message).toMatch(/staging\/trades\/_quality\/[^ ]+\.json/);
    // With a current version, the suggested command rechecks it, and it runs.
    await commitRows(lake, "raw", "trades", CLEAN_ROWS);
    await promoteTrades(lake, stagingSuite());
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    const second = (await promoteTrades(lake, stagingSuite()).catch((e: unknown) => e)) as Error;
    expect(second.message).toContain("('lakebook validate staging/trades' rechecks the current version 1)");
    const recheck = await validateVersion(lake, stagingSuite());
    expect(recheck.version).toBe(1);
  });

  it("commits a candidate whose failures are all warnings", async () => {
    const lake = await lakeWithExchanges();
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    const suite = defineSuite({
      zone: "staging",
      dataset: "trades",
      expectations: [x.inSet("ticker", ["AAA", "BBB", "CCC"], { severity: "warn" })],
    });
    const { manifest } = await promoteTrades(lake, suite);
    expect(manifest.quality?.status).toBe("warn");
    expect(manifest.rowCount).toBe(111);
  });

  it("quarantines rows failing row-level checks and promotes the rest, conserving counts", async () => {
    const lake = await lakeWithExchanges();
    const input = await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    const suite = stagingSuite((y) => y.replaceAll(/^( {2}- id: .*)$/gm, "$1\n    quarantine: true"));
    const { manifest } = await promoteTrades(lake, suite);
    const validation = (await readValidation(lake, "staging", "trades", manifest.version))!;
    const quarantined = await rows(lake, validation.quarantine!.key);
    const promoted = await rows(lake, manifest.files[0]!.key);

    const planted = Object.values(PLANTED).reduce((a, b) => a + b, 0);
    expect(quarantined).toHaveLength(planted);
    expect(manifest.rowCount).toBe(input.rowCount - planted);
    expect(manifest.rowCount + validation.quarantine!.count).toBe(input.rowCount);
    expect(new Set(promoted.map((r) => r.tag))).toEqual(new Set(["clean"]));
    expect(quarantined.find((r) => r.tag === "bad_code")?.[QUARANTINE_REASON]).toBe("code_format");
    expect(validation.status).toBe("pass");
    expect(validation.results.find((r) => r.expectation === "id_unique")?.quarantinedCount).toBe(2);
    // The promoted file keeps the step's sort order.
    expect(promoted.map((r) => Number(r.id))).toEqual([...Array(100).keys()].map((i) => i + 1));
  });

  it("names every quarantine reason of a row failing several checks", async () => {
    const lake = await lakeWithExchanges();
    await commitRows(
      lake,
      "raw",
      "trades",
      `${CLEAN_ROWS} UNION ALL SELECT 'two', 300, 'ZZZ', DATE '2023-01-01', -1, 'X300', 'NYSE', 1`,
    );
    const suite = defineSuite({
      zone: "staging",
      dataset: "trades",
      expectations: [
        x.inSet("ticker", ["AAA", "BBB", "CCC"], { quarantine: true }),
        x.between("close", { min: 0 }, { quarantine: true }),
      ],
    });
    const { manifest } = await promoteTrades(lake, suite);
    const validation = (await readValidation(lake, "staging", "trades", manifest.version))!;
    const [row] = await rows(lake, validation.quarantine!.key);
    expect(row?.[QUARANTINE_REASON]).toBe("in_set(ticker); between(close)");
    expect(manifest.rowCount).toBe(100);
  });

  it("still fails on non-quarantined expectations after routing rows out", async () => {
    const lake = await lakeWithExchanges();
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    const suite = defineSuite({
      zone: "staging",
      dataset: "trades",
      expectations: [x.notNull("ticker", { quarantine: true }), x.rowCountBetween({ max: 50 })],
    });
    await expect(promoteTrades(lake, suite)).rejects.toThrow(
      /row_count_between \(110 rows, expected 0 to 50\)/,
    );
    expect(await maybeHead(lake.storage, "staging", "trades")).toBeUndefined();
  });
});
