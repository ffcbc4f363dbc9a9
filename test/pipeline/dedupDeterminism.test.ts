/**
 * "Latest wins" is reproducible: keys repeated inside one landing tie on `_ingested_at`, and the
 * tie is broken by file order (the row's line), so the last row of a key in the file wins and two
 * fresh lakes fed the same bytes (at different times) hold byte-identical curated data.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMarketPipeline } from "../helpers/market.ts";
import { type Lake, createLake, maybeHead } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

const TICKERS = ["AAPL", "AMZN", "GOOG", "IBM", "MSFT"];
const DAYS = 2500;
const COPIES = 4;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * 50,000 rows, every (ticker, date) key 4 times, the copies spread over the file (several row
 * groups apart, so a parallel scan meets them in any order); a row's price is its line number.
 */
function duplicatedStocks(): string {
  const lines = ["symbol,date,price"];
  for (let copy = 0; copy < COPIES; copy++) {
    for (let day = 0; day < DAYS; day++) {
      const date = new Date(Date.UTC(1995, 0, 1) + day * 86_400_000);
      const text = `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${date.getUTCFullYear()}`;
      for (const ticker of TICKERS) lines.push(`${ticker},${text},${lines.length + 1}`);
    }
  }
  return lines.join("\n") + "\n";
}

async function curatedFile(lake: Lake): Promise<{ sha256: string; path: string }> {
  const head = (await maybeHead(lake.storage, "curated", "prices"))!;
  expect(head.files).toHaveLength(1);
  return { sha256: head.files[0]!.sha256, path: await lake.storage.localPath(head.files[0]!.key) };
}

describe("deduplication of keys repeated within one landing", () => {
  it("keeps the last row in file order, identically in two fresh lakes", async () => {
    const dir = await tempDir();
    const stocksPath = join(dir, "stocks.csv");
    await writeFile(stocksPath, duplicatedStocks());
    const first = createLake({ lakeDir: join(dir, "first") });
    const second = createLake({ lakeDir: join(dir, "second") });
    await runMarketPipeline(first, { stocksPath, now: new Date("2026-03-01T10:00:00Z") });
    await runMarketPipeline(second, { stocksPath, now: new Date("2026-03-02T17:30:00Z") });

    const [a, b] = [await curatedFile(first), await curatedFile(second)];
    expect(a.sha256).toBe(b.sha256);
    // Each key occurs once per block of DAYS * TICKERS rows: the last row in file order of every
    // key is in the final block, whose lines start after this one.
    const lastBlockStarts = 1 + (COPIES - 1) * DAYS * TICKERS.length;
    const [check] = await withDb((db) =>
      db.all(`SELECT count(*) AS keys, count(DISTINCT (ticker, date)) AS distinct_keys,
                count(*) FILTER (WHERE close <= ${lastBlockStarts}) AS not_last
              FROM ${parquetRelation([a.path])} WHERE ticker <> 'SPX'`),
    );
    expect(check).toEqual({
      keys: String(TICKERS.length * DAYS),
      distinct_keys: String(TICKERS.length * DAYS),
      not_last: "0",
    });
  });
});
