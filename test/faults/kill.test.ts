/**
 * kill -9 at random moments of `lakebook ingest` and `lakebook promote market` on millions of
 * rows (LAKEBOOK_FAULT_ROWS, default 2,000,000; LAKEBOOK_FAULT_SEED replays the kill times). Each
 * kill is followed by row-count checks, a sha256 check of every committed version and
 * `lakebook lake show --verify`; the rerun must commit exactly once, with every row once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vegaDataPath } from "../helpers/market.ts";
import { collectGarbage, createLake, listVersionNumbers, readManifest } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import { qualityHistory } from "../../src/quality/index.ts";
import {
  DAYS,
  STOCK_COLUMNS,
  TICKERS,
  assertLakeIntact,
  assertShowVerifies,
  faultSeed,
  killDelay,
  killIngestScenario,
  lakeEnv,
  report,
  runChild,
  seededRandom,
  writePriceCsv,
} from "../helpers/faults.ts";

const ROWS = Number(process.env.LAKEBOOK_FAULT_ROWS ?? 2_000_000);
const KILLS = Number(process.env.LAKEBOOK_FAULT_KILLS ?? 3);
const seed = faultSeed();
const random = seededRandom(seed);

let dir: string;
let firstCsv: string;
let secondCsv: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-faults-"));
  firstCsv = join(dir, "prices-1.csv");
  secondCsv = join(dir, "prices-2.csv");
  await writePriceCsv(firstCsv, ROWS, 1);
  await writePriceCsv(secondCsv, ROWS, 2);
  report(`kill tests: ${ROWS} rows per file, ${KILLS} kills per command, seed ${seed}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("kill -9 at random moments", () => {
  it("of lakebook ingest never damages a version, and the rerun commits once", async () => {
    const lakeDir = join(dir, "ingest-lake");
    const env = lakeEnv(lakeDir);
    const lake = createLake({ lakeDir });
    // A first, complete ingest: the version every kill must leave intact, and the kill window.
    const args = ["ingest", firstCsv, "--source", "feed", "--dataset", "quotes", "--columns", STOCK_COLUMNS];
    const first = await runChild(args, { env });
    expect(first.code, first.stderr).toBe(0);
    report(`ingest of ${ROWS} rows took ${first.ms} ms uninterrupted`);
    await killIngestScenario({
      lake,
      env,
      csv: secondCsv,
      rows: ROWS,
      kills: KILLS,
      maxDelayMs: first.ms,
      random,
    });
  });

  it("of lakebook promote market never damages a version, and the rerun commits once, latest rows winning", async () => {
    const lakeDir = join(dir, "promote-lake");
    const env = lakeEnv(lakeDir);
    const lake = createLake({ lakeDir });
    const ingest = async (csv: string, dataset: string, columns: string) => {
      const run = await runChild(
        ["ingest", csv, "--source", "vega", "--dataset", dataset, "--columns", columns],
        {
          env,
        },
      );
      expect(run.code, run.stderr).toBe(0);
    };
    await ingest(firstCsv, "vega_stocks", STOCK_COLUMNS);
    await ingest(vegaDataPath("sp500.csv"), "vega_sp500", "date:DATE:%b %d %Y,price:DECIMAL(18,4)");
    const first = await runChild(["promote", "market"], { env });
    expect(first.code, first.stderr).toBe(0);
    report(`promote market of ${ROWS} raw rows took ${first.ms} ms uninterrupted`);
    const sp500Rows = (await readManifest(lake.storage, "raw", "vega_sp500", 1)).rowCount;
    const curatedRows = TICKERS.length * Math.min(DAYS, Math.ceil(ROWS / TICKERS.length)) + sp500Rows;
    expect((await readManifest(lake.storage, "curated", "prices", 1)).rowCount).toBe(curatedRows);
    // New deliveries of every key: the next promotion must take their prices.
    await ingest(secondCsv, "vega_stocks", STOCK_COLUMNS);

    for (let k = 0; k < KILLS; k++) {
      // The window is the first promotion's time; this one reads twice the raw rows, so it runs longer.
      const delay = killDelay(k, KILLS, first.ms, random);
      const run = await runChild(["promote", "market"], { env, killAfterMs: delay });
      const staging = await listVersionNumbers(lake.storage, "staging", "prices");
      const curated = await listVersionNumbers(lake.storage, "curated", "prices");
      report(
        `promote market, kill -9 after ${delay} ms: ${run.signal ?? `exit ${run.code}`}; staging v${staging.at(-1)}, curated v${curated.at(-1)}`,
      );
      if (run.signal === null) expect(run.code, run.stderr).toBe(0);
      expect([[1], [1, 2]]).toContainEqual(staging);
      expect([[1], [1, 2]]).toContainEqual(curated);
      for (const version of curated) {
        expect((await readManifest(lake.storage, "curated", "prices", version)).rowCount).toBe(curatedRows);
      }
      await assertLakeIntact(lake);
      await assertShowVerifies(env, "curated/prices");
      await assertShowVerifies(env, "staging/prices");
      // A killed promotion's gate result is no result of any version.
      for (const zone of ["staging", "curated"] as const) {
        const history = await qualityHistory(lake, zone, "prices");
        const versions = zone === "staging" ? staging : curated;
        expect(history.map((h) => h.version)).toEqual(versions);
      }
    }

    const rerun = await runChild(["promote", "market", "--json"], { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await listVersionNumbers(lake.storage, "staging", "prices")).toEqual([1, 2]);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2]);
    const head = await readManifest(lake.storage, "curated", "prices", 2);
    expect(head.rowCount).toBe(curatedRows);
    const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
    const tickers = `[${TICKERS.map((t) => `'${t}'`).join(", ")}]`;
    const [counted] = await withDb((db) =>
      db.all(`SELECT count(*) AS rows, count(DISTINCT (ticker, date)) AS keys,
          count(*) FILTER (WHERE ticker <> 'SPX' AND close <> CAST(2000 + (date - DATE '1990-01-01') % 997
            + list_position(${tickers}, ticker) + 0.25 AS DECIMAL(18,4))) AS stale
        FROM ${parquetRelation(paths)}`),
    );
    expect([counted?.rows, counted?.keys, counted?.stale].map(Number)).toEqual([curatedRows, curatedRows, 0]);
    const again = await runChild(["promote", "market", "--json"], { env });
    expect(JSON.parse(again.stdout).steps.map((s: { created: boolean }) => s.created)).toEqual([
      false,
      false,
    ]);
    await collectGarbage(lake, { graceMs: 0, apply: true });
    expect((await collectGarbage(lake, { graceMs: 0 })).candidates).toEqual([]);
    const verified = await assertLakeIntact(lake);
    report(
      `promote rerun: staging and curated v2 committed once (${curatedRows} rows, one per key, every price from the newer file), a second rerun up to date, ${verified} version(s) verified, gc clean`,
    );
  });
});
