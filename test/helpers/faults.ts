/**
 * Shared by the fault tests (test/faults/, `npm run test:faults`) and their fast cases in the
 * normal suite: generated price files of any size, `lakebook` children that can be killed at a
 * chosen moment, a seeded random source (the seed is printed, so a failure can be replayed), and
 * the checks every fault is followed by.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { expect } from "vitest";
import {
  type Lake,
  type VersionedZone,
  collectGarbage,
  listDatasets,
  listVersionNumbers,
  readManifest,
  verifyVersion,
} from "../../src/lake/index.ts";
import { type CliRun, REPO_ROOT } from "./cli.ts";

export const STOCK_COLUMNS = "symbol:VARCHAR,date:DATE:%b %d %Y,price:DECIMAL(18,4)";
/** The tickers the demo's curated suite accepts (SPX comes from the S&P 500 file). */
export const TICKERS = ["AAPL", "AMZN", "GOOG", "IBM", "MSFT"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** Trading days from 1990-01-01: 5 tickers x DAYS distinct keys. */
export const DAYS = 14_000;
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(1990, 0, 1);

/** The price of row `i` of variant `variant`: the same for every repeat of a (ticker, day) key. */
export function priceOf(variant: number, ticker: number, day: number): string {
  return `${variant * 1000 + (day % 997) + ticker + 1}.25`;
}

/**
 * Writes `rows` lines of `symbol,date,price` (the vega stocks layout): row i is ticker i % 5 on
 * day floor(i / 5) % DAYS, so keys repeat once rows exceed 5 x DAYS, always with the same price.
 */
export async function writePriceCsv(path: string, rows: number, variant = 1): Promise<void> {
  const out = createWriteStream(path);
  out.write("symbol,date,price\n");
  const chunk = 50_000;
  for (let start = 0; start < rows; start += chunk) {
    let text = "";
    for (let i = start; i < Math.min(rows, start + chunk); i++) {
      const ticker = i % TICKERS.length;
      const day = Math.floor(i / TICKERS.length) % DAYS;
      const date = new Date(FIRST_DAY + day * DAY_MS);
      const stamp = `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${date.getUTCFullYear()}`;
      text += `${TICKERS[ticker]},${stamp},${priceOf(variant, ticker, day)}\n`;
    }
    if (!out.write(text)) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
}

/** A small seeded generator (mulberry32): the same seed gives the same kill times. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function faultSeed(): number {
  return Number(process.env.LAKEBOOK_FAULT_SEED ?? Date.now() % 1_000_000);
}

/** The environment of a `lakebook` child on the filesystem lake `lakeDir`. */
export function lakeEnv(lakeDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LAKEBOOK_LAKE_DIR: lakeDir, TZ: "UTC", ...extra };
  for (const name of Object.keys(env)) if (name.startsWith("LAKEBOOK_S3_")) delete env[name];
  return env;
}

export interface ChildRun extends CliRun {
  signal: NodeJS.Signals | null;
  ms: number;
}

/**
 * Runs `lakebook <args>` (or `command` with `args` when given, e.g. unshare) and, with
 * `killAfterMs`, sends it SIGKILL after that long, as a crash or an OOM kill would.
 */
export function runChild(
  args: string[],
  options: { env: NodeJS.ProcessEnv; killAfterMs?: number; command?: string[] },
): Promise<ChildRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const argv = options.command ?? [process.execPath, "bin/lakebook.js"];
    const child = spawn(argv[0]!, [...argv.slice(1), ...args], {
      cwd: REPO_ROOT,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Every committed version of every dataset matches its manifest (sizes and sha256). */
export async function assertLakeIntact(lake: Lake): Promise<number> {
  let checked = 0;
  for (const zone of ["raw", "staging", "curated"] as VersionedZone[]) {
    for (const dataset of await listDatasets(lake.storage, zone)) {
      for (const version of await listVersionNumbers(lake.storage, zone, dataset)) {
        const manifest = await readManifest(lake.storage, zone, dataset, version);
        expect(await verifyVersion(lake.storage, manifest), `${zone}/${dataset} v${version}`).toEqual([]);
        checked++;
      }
    }
  }
  return checked;
}

/** `lakebook lake show <ref> --verify --json` as a user would run it: exit 0 and no problem. */
export async function assertShowVerifies(env: NodeJS.ProcessEnv, ref: string): Promise<void> {
  const run = await runChild(["lake", "show", ref, "--verify", "--json"], { env });
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout).problems).toEqual([]);
}

/**
 * The moment of the k-th of `kills` kills within a window of `windowMs`: one random point in each
 * of `kills` equal slices, so the kills cover start-up, the work and the commit, not by chance.
 */
export function killDelay(k: number, kills: number, windowMs: number, random: () => number): number {
  return Math.round(150 + ((k + random()) / kills) * windowMs);
}

/** A line in the fault report: what was done and what was checked. */
export function report(line: string): void {
  process.stdout.write(`[faults] ${line}\n`);
}

/**
 * kill -9 of `lakebook ingest` at random moments, then the checks: after every kill each
 * committed version verifies and raw holds either the previous rows or the previous rows plus the
 * whole file; the rerun then commits exactly one new version with every row once, and gc leaves
 * nothing behind. `maxDelayMs` bounds the kill times (about the ingest's duration).
 */
export async function killIngestScenario(options: {
  lake: Lake;
  env: NodeJS.ProcessEnv;
  csv: string;
  rows: number;
  kills: number;
  maxDelayMs: number;
  random: () => number;
}): Promise<void> {
  const { lake, env, csv, rows } = options;
  const args = [
    "ingest",
    csv,
    "--source",
    "feed",
    "--dataset",
    "quotes",
    "--columns",
    STOCK_COLUMNS,
    "--json",
  ];
  const before = await listVersionNumbers(lake.storage, "raw", "quotes");
  const previousRows =
    before.length > 0 ? (await readManifest(lake.storage, "raw", "quotes", before.at(-1)!)).rowCount : 0;
  for (let k = 0; k < options.kills; k++) {
    const delay = killDelay(k, options.kills, options.maxDelayMs, options.random);
    const run = await runChild(args, { env, killAfterMs: delay });
    const versions = await listVersionNumbers(lake.storage, "raw", "quotes");
    const head = versions.at(-1);
    const headRows =
      head === undefined ? 0 : (await readManifest(lake.storage, "raw", "quotes", head)).rowCount;
    report(
      `ingest ${rows} rows, kill -9 after ${delay} ms: ${run.signal ?? `exit ${run.code}`}; raw/quotes v${head ?? "-"} with ${headRows} rows`,
    );
    if (run.signal === null) expect(run.code, run.stderr).toBe(0);
    expect(versions.length - before.length).toBeLessThanOrEqual(1);
    expect([previousRows, previousRows + rows]).toContain(headRows);
    await assertLakeIntact(lake);
    if (head !== undefined) await assertShowVerifies(env, "raw/quotes");
  }
  const rerun = await runChild(args, { env });
  expect(rerun.code, rerun.stderr).toBe(0);
  const versions = await listVersionNumbers(lake.storage, "raw", "quotes");
  expect(versions).toEqual([...before, (before.at(-1) ?? 0) + 1]);
  const head = await readManifest(lake.storage, "raw", "quotes", versions.at(-1)!);
  expect(head.rowCount).toBe(previousRows + rows);
  const again = await runChild(args, { env });
  expect(JSON.parse(again.stdout).raw.created).toBe(false);
  await assertShowVerifies(env, "raw/quotes");
  await collectGarbage(lake, { graceMs: 0, apply: true });
  expect((await collectGarbage(lake, { graceMs: 0 })).candidates).toEqual([]);
  const verified = await assertLakeIntact(lake);
  report(
    `ingest rerun: exactly one new version (v${head.version}, ${head.rowCount} rows), a second rerun unchanged, ${verified} version(s) verified, gc clean`,
  );
}
