/**
 * The demo pipeline: real daily-close data that the vega-datasets npm package ships (monthly
 * closes of five tickers, and the S&P 500 index), carried through every zone:
 *
 *   landing (bytes + provenance) -> raw vega_stocks / vega_sp500 (typed, partitioned)
 *   -> staging prices (one schema, deduplicated on ticker+date: the latest ingest wins, and
 *      within one landing the last row in file order)
 *   -> curated prices (sorted by ticker, date; ZSTD; row groups for range reads)
 *
 * Prices are DECIMAL(18,4) and dates DATE from the first typed zone on: no float ever touches them.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Lake, Manifest } from "../lake/index.ts";
import {
  type CsvIngestSpec,
  type PromotionResult,
  type PromotionStep,
  ingestCsv,
  promote,
} from "../pipeline/index.ts";
import { maybeSuite, qualityGate } from "../quality/index.ts";
import { landFile } from "../sources/index.ts";

export const PRICE_TYPE = "DECIMAL(18,4)";

export const STOCKS: CsvIngestSpec = {
  dataset: "vega_stocks",
  columns: [
    { name: "symbol", type: "VARCHAR" },
    { name: "date", type: "DATE", format: "%b %d %Y" },
    { name: "price", type: PRICE_TYPE },
  ],
};

export const SP500: CsvIngestSpec = {
  dataset: "vega_sp500",
  columns: [
    { name: "date", type: "DATE", format: "%b %d %Y" },
    { name: "price", type: PRICE_TYPE },
  ],
};

export const SP500_TICKER = "SPX";

/** The demo's quality gates: quality/staging.prices.yaml and quality/curated.prices.yaml. */
export const DEMO_SUITES_DIR = fileURLToPath(new URL("../../quality/", import.meta.url));

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
  options: { stocksPath?: string; sp500Path?: string; now?: Date; suitesDir?: string } = {},
): Promise<MarketPipelineResult> {
  // Suites are loaded before anything lands, so a broken suite file fails the run up front.
  const gates = await loadMarketGates(lake, options.suitesDir);
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
  const { staging, curated } = await promoteMarket(lake, { gates });
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

/** The market's promotion steps, in order: raw -> staging prices -> curated prices. */
export const MARKET_STEPS: PromotionStep[] = [
  {
    inputs: {
      stocks: { zone: "raw", dataset: "vega_stocks" },
      sp500: { zone: "raw", dataset: "vega_sp500" },
    },
    output: { zone: "staging", dataset: "prices" },
    sql: `SELECT CAST(symbol AS VARCHAR) AS ticker, date, CAST(price AS ${PRICE_TYPE}) AS close,
              _ingested_at, _landing_sha256, _line
            FROM stocks
          UNION ALL
          SELECT '${SP500_TICKER}' AS ticker, date, CAST(price AS ${PRICE_TYPE}) AS close,
              _ingested_at, _landing_sha256, _line
            FROM sp500`,
    key: ["ticker", "date"],
    // The latest landing wins; within one landing (and between two landed at the same instant,
    // by their sha256) the last row in file order: the same input always gives the same data.
    latestBy: ["_ingested_at", "_landing_sha256", "_line"],
    orderBy: ["ticker", "date"],
  },
  {
    inputs: { prices: { zone: "staging", dataset: "prices" } },
    output: { zone: "curated", dataset: "prices" },
    sql: `SELECT ticker, date, close FROM prices`,
    orderBy: ["ticker", "date"],
    // Small row groups: a ticker's rows sit in few groups, so a filtered browser query reads little.
    rowGroupSize: 10_000,
  },
];

type Gate = NonNullable<PromotionStep["gate"]>;

/** The quality gates of the market's steps, from the suites in `suitesDir` (the demo's by default). */
export async function loadMarketGates(
  lake: Lake,
  suitesDir: string = DEMO_SUITES_DIR,
): Promise<{ staging?: Gate; curated?: Gate }> {
  const stagingSuite = await maybeSuite(suitesDir, "staging", "prices");
  const curatedSuite = await maybeSuite(suitesDir, "curated", "prices");
  return {
    ...(stagingSuite && { staging: qualityGate(lake, stagingSuite) }),
    ...(curatedSuite && { curated: qualityGate(lake, curatedSuite) }),
  };
}

/** Runs the market's promotion steps on the current raw versions (`lakebook promote market`). */
export async function promoteMarket(
  lake: Lake,
  options: {
    /** Quality gates per step; the demo suites' when omitted. */
    gates?: { staging?: Gate; curated?: Gate };
    onStep?: (step: PromotionStep, result: PromotionResult) => void;
  } = {},
): Promise<{ staging: PromotionResult; curated: PromotionResult }> {
  const gates = options.gates ?? (await loadMarketGates(lake));
  const [stagingStep, curatedStep] = MARKET_STEPS as [PromotionStep, PromotionStep];
  const stagingWithGate = gates.staging ? { ...stagingStep, gate: gates.staging } : stagingStep;
  const staging = await promote(lake, stagingWithGate);
  options.onStep?.(stagingWithGate, staging);
  const curatedWithGate = gates.curated ? { ...curatedStep, gate: gates.curated } : curatedStep;
  const curated = await promote(lake, curatedWithGate);
  options.onStep?.(curatedWithGate, curated);
  return { staging, curated };
}
