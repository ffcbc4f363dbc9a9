/**
 * The demo pipeline: real daily-close data that the vega-datasets npm package ships (monthly
 * closes of five tickers, and the S&P 500 index), carried through every zone:
 *
 *   landing (bytes + provenance) -> raw vega_stocks / vega_sp500 (typed, partitioned)
 *   -> staging prices (one schema, deduplicated on ticker+date, latest ingest wins)
 *   -> curated prices (sorted by ticker, date; ZSTD; row groups for range reads)
 *
 * Prices are DECIMAL(18,4) and dates DATE from the first typed zone on: no float ever touches them.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Lake, Manifest } from "../lake/index.ts";
import { type CsvIngestSpec, ingestCsv, promote } from "../pipeline/index.ts";
import { landFile } from "../sources/index.ts";

export const PRICE_TYPE = "DECIMAL(18,4)";

const STOCKS: CsvIngestSpec = {
  dataset: "vega_stocks",
  columns: [
    { name: "symbol", type: "VARCHAR" },
    { name: "date", type: "DATE", format: "%b %d %Y" },
    { name: "price", type: PRICE_TYPE },
  ],
};

const SP500: CsvIngestSpec = {
  dataset: "vega_sp500",
  columns: [
    { name: "date", type: "DATE", format: "%b %d %Y" },
    { name: "price", type: PRICE_TYPE },
  ],
};

export const SP500_TICKER = "SPX";

export function vegaDataPath(file: string): string {
  // The package exports only its JS entry (build/index.js); the CSV files sit in data/ beside build/.
  const require = createRequire(import.meta.url);
  return join(dirname(dirname(require.resolve("vega-datasets"))), "data", file);
}

export interface MarketPipelineResult {
  curated: Manifest;
  staging: Manifest;
  /** Which steps committed a new version (false: already up to date). */
  created: Record<string, boolean>;
}

export async function runMarketPipeline(
  lake: Lake,
  options: { stocksPath?: string; sp500Path?: string; now?: Date } = {},
): Promise<MarketPipelineResult> {
  const stocksLanding = await landFile(lake.storage, {
    source: "vega",
    path: options.stocksPath ?? vegaDataPath("stocks.csv"),
    now: options.now,
  });
  const sp500Landing = await landFile(lake.storage, {
    source: "vega",
    path: options.sp500Path ?? vegaDataPath("sp500.csv"),
    now: options.now,
  });
  const stocks = await ingestCsv(lake, stocksLanding.record, STOCKS);
  const sp500 = await ingestCsv(lake, sp500Landing.record, SP500);
  const staging = await promote(lake, {
    inputs: {
      stocks: { zone: "raw", dataset: "vega_stocks" },
      sp500: { zone: "raw", dataset: "vega_sp500" },
    },
    output: { zone: "staging", dataset: "prices" },
    sql: `SELECT CAST(symbol AS VARCHAR) AS ticker, date, CAST(price AS ${PRICE_TYPE}) AS close, _ingested_at
            FROM stocks
          UNION ALL
          SELECT '${SP500_TICKER}' AS ticker, date, CAST(price AS ${PRICE_TYPE}) AS close, _ingested_at
            FROM sp500`,
    key: ["ticker", "date"],
    latestBy: "_ingested_at",
    orderBy: ["ticker", "date"],
  });
  const curated = await promote(lake, {
    inputs: { prices: { zone: "staging", dataset: "prices" } },
    output: { zone: "curated", dataset: "prices" },
    sql: `SELECT ticker, date, close FROM prices`,
    orderBy: ["ticker", "date"],
    // Small row groups: a ticker's rows sit in few groups, so a filtered browser query reads little.
    rowGroupSize: 10_000,
  });
  return {
    curated: curated.manifest,
    staging: staging.manifest,
    created: {
      stocks: stocks.created,
      sp500: sp500.created,
      staging: staging.created,
      curated: curated.created,
    },
  };
}
