/**
 * `npm run bench:pipeline -- --append [--rows N]`: an incremental curated model against a full
 * run. A curated dataset of N price rows (default 10M) is built; then a landing file of 1% of N
 * rows arrives: half restate the most recent days (changed keys), half are new days (new keys).
 *
 * - incremental: that file is landed and ingested into raw, and the incremental model merges it
 *   into its current version (only the files holding changed keys are rewritten);
 * - full landing -> curated run: the same two files landed, ingested and promoted from scratch
 *   by the same model without `incremental` (its last step alone, ingest of the new file and a
 *   full re-promotion, is printed too).
 *
 * Both models key on (ticker, date), keep the latest ingest and sort by (date, ticker): a time
 * series whose corrections concern recent days, so the changed keys sit in the newest files.
 * Prints both results' row count and checksum (they must be equal) and `append_ratio=` last
 * (incremental time / full run time). A benchmark, not a test: it never fails on a slow result.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Lake, createLake, landLocalFile, maybeHead } from "../src/lake/index.ts";
import {
  type CsvIngestSpec,
  type PromotionStep,
  ingestCsv,
  parquetRelation,
  promote,
  withDb,
} from "../src/pipeline/index.ts";

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function model(incremental: boolean): PromotionStep {
  return {
    inputs: { prices: { zone: "raw", dataset: "bench_prices" } },
    output: { zone: "curated", dataset: incremental ? "prices_incremental" : "prices_full" },
    sql: "SELECT ticker, date, open, high, low, close, volume, _ingested_at FROM prices",
    key: ["ticker", "date"],
    latestBy: "_ingested_at",
    orderBy: ["date", "ticker"],
    incremental,
  };
}

/** Row count and an order-independent checksum of a dataset's current rows (lineage excluded). */
async function checksum(lake: Lake, dataset: string): Promise<string> {
  const head = (await maybeHead(lake.storage, "curated", dataset))!;
  const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
  const [row] = await withDb((db) =>
    db.all(
      `SELECT count(*) AS n, bit_xor(hash(ticker, date, open, high, low, close, volume)) AS h FROM ${parquetRelation(paths)}`,
    ),
  );
  return `${row?.n} rows, checksum ${row?.h}`;
}

export async function benchAppend(options: {
  rows: number;
  spec: CsvIngestSpec;
  script: string;
}): Promise<void> {
  const { rows, spec, script } = options;
  const appendRows = Math.max(2, Math.round(rows / 100));
  const dir = await mkdtemp(join(tmpdir(), "lakebook-bench-append-"));
  const generate = (path: string, n: number, from: number, changed: boolean) =>
    execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        script,
        "--rows",
        String(n),
        "--from",
        String(from),
        "--changed",
        String(changed),
        "--generate",
        path,
      ],
      { stdio: "inherit" },
    );
  try {
    const base = join(dir, "prices.csv");
    const append = join(dir, "append.csv");
    generate(base, rows, 0, false);
    // Rows N - 1%/2 .. N + 1%/2: the first half restates the last days, the second adds new days.
    generate(append, appendRows, rows - Math.floor(appendRows / 2), true);
    console.log(
      `generated ${rows.toLocaleString("en-US")} rows (${mib((await stat(base)).size)}) and an append of ` +
        `${appendRows.toLocaleString("en-US")} rows: ${Math.floor(appendRows / 2).toLocaleString("en-US")} changed, ` +
        `${(appendRows - Math.floor(appendRows / 2)).toLocaleString("en-US")} new`,
    );
    const first = new Date("2026-01-01T00:00:00Z");
    const later = new Date("2026-01-02T00:00:00Z");

    // The incremental model's curated dataset of N rows (set-up, not timed).
    const lake = createLake({ lakeDir: join(dir, "incremental") });
    let start = process.hrtime.bigint();
    await ingestCsv(
      lake,
      (await landLocalFile(lake, { source: "bench", path: base, now: first })).record,
      spec,
    );
    const built = await promote(lake, model(true));
    console.log(
      `set-up: curated dataset of ${built.manifest.rowCount.toLocaleString("en-US")} rows in ` +
        `${built.manifest.files.length} files (${seconds(start).toFixed(2)} s, not counted)`,
    );

    start = process.hrtime.bigint();
    await ingestCsv(
      lake,
      (await landLocalFile(lake, { source: "bench", path: append, now: later })).record,
      spec,
    );
    const ingestAppend = seconds(start);
    start = process.hrtime.bigint();
    const merged = await promote(lake, model(true));
    const mergeSeconds = seconds(start);
    const incremental = ingestAppend + mergeSeconds;
    const w = merged.write!;
    console.log(
      `incremental: ingest ${ingestAppend.toFixed(2)} s, merge ${mergeSeconds.toFixed(2)} s (${w.mode}; read ${w.inputFiles} input file, ` +
        `rewrote ${w.replacedFiles} of ${built.manifest.files.length} files, added ${w.addedFiles}) -> ${incremental.toFixed(2)} s`,
    );
    if (w.mode !== "incremental") throw new Error(`the incremental model rebuilt in full: ${w.reason}`);

    // The full landing -> curated run of the same model without `incremental`.
    const fullLake = createLake({ lakeDir: join(dir, "full") });
    start = process.hrtime.bigint();
    await ingestCsv(
      fullLake,
      (await landLocalFile(fullLake, { source: "bench", path: base, now: first })).record,
      spec,
    );
    const ingestBase = seconds(start);
    start = process.hrtime.bigint();
    await ingestCsv(
      fullLake,
      (await landLocalFile(fullLake, { source: "bench", path: append, now: later })).record,
      spec,
    );
    const ingestBoth = ingestBase + seconds(start);
    const reingest = seconds(start);
    start = process.hrtime.bigint();
    await promote(fullLake, model(false));
    const promoteSeconds = seconds(start);
    const full = ingestBoth + promoteSeconds;
    console.log(
      `full run: ingest ${ingestBoth.toFixed(2)} s, promote ${promoteSeconds.toFixed(2)} s -> ${full.toFixed(2)} s` +
        ` (ingest of the new file and full re-promotion alone: ${(reingest + promoteSeconds).toFixed(2)} s)`,
    );

    const ours = await checksum(lake, "prices_incremental");
    const theirs = await checksum(fullLake, "prices_full");
    console.log(`incremental result: ${ours}\nfull rebuild:       ${theirs}`);
    console.log(`same_rows=${ours === theirs}`);
    console.log(`append_ratio_vs_repromote=${(incremental / (reingest + promoteSeconds)).toFixed(3)}`);
    console.log(`append_ratio=${(incremental / full).toFixed(3)}`);
    if (ours !== theirs) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
