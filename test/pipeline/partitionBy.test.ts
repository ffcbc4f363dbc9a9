/**
 * `partitionBy`: one folder per partition value, the value recorded in the manifest and kept in
 * the file, the same rows as the unpartitioned model, and hostile values (slashes, `..`, NULL,
 * empty, spaces, quotes, non-ASCII, very long) encoded into safe key segments.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Lake, createLake, landBytes, normalizeKey } from "../../src/lake/index.ts";
import {
  type CsvIngestSpec,
  type PromotionStep,
  ingestCsv,
  parquetRelation,
  partitionSegment,
  promote,
  readSnapshot,
  withDb,
} from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

const SPEC: CsvIngestSpec = {
  dataset: "sales",
  columns: [
    { name: "id", type: "BIGINT" },
    { name: "region", type: "VARCHAR", nullable: true },
    { name: "amount", type: "BIGINT" },
  ],
};

const LONG = "x".repeat(300);
const HOSTILE = ["EU", "a/b", "..", "../../etc", "", "with space", "it's", "ünï", LONG, "_null", "EU/"];

function step(dataset: string, partitionBy?: string[]): PromotionStep {
  return {
    inputs: { sales: { zone: "raw", dataset: "sales" } },
    output: { zone: "curated", dataset },
    // CSV ingest reads an empty field as NULL: the empty string comes from the SQL.
    sql: "SELECT id, CASE WHEN region = 'EMPTY' THEN '' ELSE region END AS region, amount FROM sales",
    orderBy: ["id"],
    ...(partitionBy && { partitionBy }),
  };
}

async function setup(): Promise<Lake> {
  const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
  // Quoted CSV values; an empty field is NULL.
  const lines = ["id,region,amount"];
  let id = 0;
  for (const value of HOSTILE) for (let i = 0; i < 3; i++) lines.push(`${id++},"${value || "EMPTY"}",${id}`);
  lines.push(`${id},,5`, `${id + 1},,6`);
  const landing = await landBytes(lake.storage, {
    source: "feed",
    origin: "test",
    data: Buffer.from(lines.join("\n") + "\n"),
    extension: "csv",
    contentType: "text/csv",
    now: new Date("2026-01-01T00:00:00Z"),
  });
  await ingestCsv(lake, landing.record, SPEC);
  return lake;
}

const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe("partition_by", () => {
  it("writes one file per value, hostile values included, with the rows of the unpartitioned model", async () => {
    const lake = await setup();
    const plain = await promote(lake, step("plain"));
    const partitioned = await promote(lake, step("parted", ["region"]));
    expect(partitioned.manifest.rowCount).toBe(plain.manifest.rowCount);
    expect(byId((await readSnapshot(lake, "curated", "parted")).rows)).toEqual(
      byId((await readSnapshot(lake, "curated", "plain")).rows),
    );

    const files = partitioned.manifest.files;
    const values = files.map((f) => f.partition?.region);
    const expected = [...HOSTILE, null];
    expect(new Set(values)).toEqual(new Set(expected));
    expect(files).toHaveLength(expected.length);
    for (const file of files) {
      // A key the lake accepts, inside the write's folder, never a `..` or Hive `=` segment.
      expect(normalizeKey(file.key)).toBe(file.key);
      const segments = file.key.split("/");
      expect(segments.slice(0, 4)).toEqual(["curated", "parted", "data", partitioned.manifest.writeId]);
      expect(segments).toHaveLength(6);
      expect(segments.every((s) => s !== ".." && s !== "." && !s.includes("="))).toBe(true);
      // The file holds exactly the rows of its value (the column stays in the file).
      const path = await lake.storage.localPath(file.key);
      const inFile = await withDb((db) =>
        db.all(`SELECT DISTINCT region, count(*) OVER () AS n FROM ${parquetRelation([path])}`),
      );
      expect(inFile.map((r) => r.region)).toEqual([file.partition!.region]);
      expect(Number(inFile[0]!.n)).toBe(file.rows);
    }
    // Distinct values, distinct folders.
    expect(new Set(files.map((f) => f.key.split("/")[4])).size).toBe(files.length);
  });

  it("encodes values into safe, distinct segments", () => {
    expect(partitionSegment("region", "EU")).toBe("region-EU");
    expect(partitionSegment("region", "a/b")).toBe("region-a_2Fb");
    expect(partitionSegment("region", "..")).toBe("region-_2E_2E");
    expect(partitionSegment("region", null)).toBe("region-_null");
    expect(partitionSegment("region", "")).toBe("region-_empty");
    expect(partitionSegment("region", "_null")).toBe("region-_5Fnull");
    expect(partitionSegment("my col", "ü")).toBe("my_20col-_C3_BC");
    const long = partitionSegment("region", LONG);
    expect(long.length).toBeLessThanOrEqual(120);
    expect(long).toMatch(/_h[0-9a-f]{16}$/);
    expect(partitionSegment("region", LONG + "y")).not.toBe(long);
  });

  it("refuses a partition column the SQL does not return", async () => {
    const lake = await setup();
    await expect(promote(lake, step("parted", ["country"]))).rejects.toThrow(
      "step curated/parted is partitioned by country, which its SQL does not return",
    );
  });
});
