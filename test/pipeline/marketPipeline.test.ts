import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMarketPipeline, vegaDataPath } from "../helpers/market.ts";
import { DataError } from "../../src/errors.ts";
import { type Lake, createLake, listVersionNumbers, maybeHead } from "../../src/lake/index.ts";
import { parquetRelation, promote, quoteLiteral, withDb } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

async function query(lake: Lake, zone: "staging" | "curated", sql: string) {
  const head = await maybeHead(lake.storage, zone, "prices");
  const paths = await Promise.all(head!.files.map((f) => lake.storage.localPath(f.key)));
  return withDb(async (db) => {
    await db.run(`CREATE VIEW prices AS SELECT * FROM ${parquetRelation(paths)}`);
    return db.all(sql);
  });
}

async function csvLineCount(path: string): Promise<number> {
  return (await readFile(path, "utf8")).trim().split("\n").length - 1;
}

describe("market pipeline (landing -> raw -> staging -> curated)", () => {
  it("preserves every row from the bundled CSV files into curated, typed exactly", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const result = await runMarketPipeline(lake);
    const expected =
      (await csvLineCount(vegaDataPath("stocks.csv"))) + (await csvLineCount(vegaDataPath("sp500.csv")));
    expect(result.staging.rowCount).toBe(expected);
    expect(result.curated.rowCount).toBe(expected);
    expect(result.curated.schema).toEqual([
      { name: "ticker", type: "VARCHAR" },
      { name: "date", type: "DATE" },
      { name: "close", type: "DECIMAL(18,4)" },
    ]);
    const counts = await query(
      lake,
      "curated",
      "SELECT ticker, count(*) AS n FROM prices GROUP BY ticker ORDER BY ticker",
    );
    expect(counts.map((r) => r.ticker)).toEqual(["AAPL", "AMZN", "GOOG", "IBM", "MSFT", "SPX"]);
    const [first] = await query(
      lake,
      "curated",
      "SELECT ticker, CAST(date AS VARCHAR) AS date, close FROM prices LIMIT 1",
    );
    expect(first).toEqual({ ticker: "AAPL", date: "2000-01-01", close: "25.9400" });
    // lineage reaches back to both landing files
    expect(result.curated.lineage.landing).toHaveLength(2);
    expect(result.curated.lineage.inputs).toEqual([{ zone: "staging", dataset: "prices", version: 1 }]);
  });

  it("writes curated data sorted by ticker and date with ZSTD compression", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const { curated } = await runMarketPipeline(lake);
    const path = await lake.storage.localPath(curated.files[0]!.key);
    const [meta] = await withDb((db) =>
      db.all(`SELECT list_distinct(list(compression)) AS codecs, max(row_group_id) + 1 AS groups
              FROM parquet_metadata(${quoteLiteral(path)})`),
    );
    expect(meta?.codecs).toEqual(["ZSTD"]);
    const [unsorted] = await query(
      lake,
      "curated",
      `SELECT count(*) AS n FROM (SELECT ticker, date, lag(ticker) OVER () AS pt, lag(date) OVER () AS pd FROM prices)
       WHERE pt > ticker OR (pt = ticker AND pd >= date)`,
    );
    expect(unsorted?.n).toBe("0");
  });

  it("commits nothing when rerun on unchanged inputs", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await runMarketPipeline(lake);
    const again = await runMarketPipeline(lake);
    expect(again.created).toEqual({ stocks: false, sp500: false, staging: false, curated: false });
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1]);
  });

  it("deduplicates on ticker+date keeping the latest ingest", async () => {
    const dir = await tempDir();
    const lake = createLake({ lakeDir: join(dir, "lake") });
    await runMarketPipeline(lake, { now: new Date("2026-01-01T00:00:00Z") });
    // A correction lands later: MSFT's first close restated, plus one new month.
    const correction = join(dir, "stocks-correction.csv");
    await writeFile(correction, "symbol,date,price\nMSFT,Jan 1 2000,40.00\nMSFT,Apr 1 2010,30.5\n");
    const result = await runMarketPipeline(lake, {
      stocksPath: correction,
      now: new Date("2026-01-02T00:00:00Z"),
    });
    const before =
      (await csvLineCount(vegaDataPath("stocks.csv"))) + (await csvLineCount(vegaDataPath("sp500.csv")));
    expect(result.curated.rowCount).toBe(before + 1);
    const rows = await query(
      lake,
      "curated",
      "SELECT CAST(date AS VARCHAR) AS date, close FROM prices WHERE ticker = 'MSFT' AND date IN ('2000-01-01', '2010-04-01') ORDER BY date",
    );
    expect(rows).toEqual([
      { date: "2000-01-01", close: "40.0000" },
      { date: "2010-04-01", close: "30.5000" },
    ]);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2]);
  });

  it("rejects a dropped column or changed type against the previous version, naming them", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await runMarketPipeline(lake);
    const step = {
      inputs: { prices: { zone: "staging" as const, dataset: "prices" } },
      output: { zone: "curated" as const, dataset: "prices" },
      sql: "SELECT ticker, CAST(close AS DOUBLE) AS close, 1 AS extra FROM prices",
    };
    const error = await promote(lake, step).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toContain(
      "dropped column(s) date; changed type(s) close DECIMAL(18,4) -> DOUBLE",
    );
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1]);
  });
});
