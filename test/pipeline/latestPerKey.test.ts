/**
 * A promotion's dedup (key + latestBy) against DuckDB's own DISTINCT ON over the same rows:
 * repeated keys inside one file and across landings, NULL key values, keys that never repeat,
 * and an output order other than the key.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLake, landBytes, maybeHead, type Lake } from "../../src/lake/index.ts";
import { type CsvIngestSpec, ingestCsv, parquetRelation, promote, withDb } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

const SPEC: CsvIngestSpec = {
  dataset: "quotes",
  columns: [
    { name: "venue", type: "VARCHAR", nullable: true },
    { name: "day", type: "BIGINT" },
    { name: "rev", type: "BIGINT" },
    { name: "price", type: "DECIMAL(18,4)" },
  ],
};

async function land(lake: Lake, csv: string, at: string): Promise<void> {
  const landing = await landBytes(lake.storage, {
    source: "feed",
    origin: "test",
    data: Buffer.from(csv),
    extension: "csv",
    contentType: "text/csv",
    now: new Date(at),
  });
  await ingestCsv(lake, landing.record, SPEC);
}

async function rowsOf(lake: Lake, zone: "raw" | "curated", dataset: string, sql: string) {
  const head = (await maybeHead(lake.storage, zone, dataset))!;
  const paths = await Promise.all(head.files.map((file) => lake.storage.localPath(file.key)));
  return withDb(async (db) => {
    await db.run(`CREATE VIEW t AS SELECT * FROM ${parquetRelation(paths)}`);
    return db.all(sql);
  });
}

describe("keeping the latest row per key", () => {
  it("matches DISTINCT ON, with NULL keys, repeats within and across files, and another order", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    // Key (venue, day); `rev` orders the versions of a key; `day` 9 never repeats.
    await land(
      lake,
      "venue,day,rev,price\n" +
        "X,1,1,10.0\nX,1,3,13.0\nX,1,2,12.0\n" + // repeated within the file: rev 3 wins
        ",1,1,1.5\n,1,2,2.5\n" + // NULL venue twice: one key, rev 2 wins
        "Y,2,1,20.0\nZ,9,1,90.0\n",
      "2026-01-01T00:00:00Z",
    );
    await land(lake, "venue,day,rev,price\nY,2,5,25.0\nX,1,0,0.5\n,2,1,3.0\n", "2026-01-02T00:00:00Z");
    const result = await promote(lake, {
      inputs: { quotes: { zone: "raw", dataset: "quotes" } },
      output: { zone: "curated", dataset: "quotes" },
      sql: "SELECT venue, day, rev, price FROM quotes",
      key: ["venue", "day"],
      latestBy: "rev",
      orderBy: ["day", "price"],
    });
    const expected = await rowsOf(
      lake,
      "raw",
      "quotes",
      `SELECT venue, day, rev, price FROM (
         SELECT DISTINCT ON (venue, day) venue, day, rev, price FROM t ORDER BY venue, day, rev DESC
       ) ORDER BY day, price`,
    );
    const actual = await rowsOf(lake, "curated", "quotes", "SELECT venue, day, rev, price FROM t");
    expect(actual).toEqual(expected);
    expect(actual).toEqual([
      { venue: null, day: "1", rev: "2", price: "2.5000" },
      { venue: "X", day: "1", rev: "3", price: "13.0000" },
      { venue: null, day: "2", rev: "1", price: "3.0000" },
      { venue: "Y", day: "2", rev: "5", price: "25.0000" },
      { venue: "Z", day: "9", rev: "1", price: "90.0000" },
    ]);
    expect(result.manifest.rowCount).toBe(5);
  });

  it("passes rows through sorted by the key when no key repeats", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await land(lake, "venue,day,rev,price\nB,2,1,2.0\nA,3,1,3.0\nA,1,1,1.0\n", "2026-01-01T00:00:00Z");
    await promote(lake, {
      inputs: { quotes: { zone: "raw", dataset: "quotes" } },
      output: { zone: "curated", dataset: "quotes" },
      sql: "SELECT venue, day, price FROM quotes",
      key: ["venue", "day"],
      latestBy: "day",
    });
    const actual = await rowsOf(lake, "curated", "quotes", "SELECT venue, day FROM t");
    expect(actual).toEqual([
      { venue: "A", day: "1" },
      { venue: "A", day: "3" },
      { venue: "B", day: "2" },
    ]);
  });

  it("names the step when its key is not a column", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await land(lake, "venue,day,rev,price\nB,2,1,2.0\n", "2026-01-01T00:00:00Z");
    await expect(
      promote(lake, {
        inputs: { quotes: { zone: "raw", dataset: "quotes" } },
        output: { zone: "curated", dataset: "quotes" },
        sql: "SELECT venue, day, price FROM quotes",
        key: ["ticker"],
        latestBy: "day",
      }),
    ).rejects.toThrow(/key of step curated\/quotes \(ticker\) cannot be grouped/);
    expect(await maybeHead(lake.storage, "curated", "quotes")).toBeUndefined();
  });
});
