/**
 * `npm run bench:explorer -- --layout [--size 200MB]`: the curated layout compared on the bench's
 * data. The same rows are rewritten with each row group size and compression, committed as their
 * own curated dataset, and measured the two ways the explorer reads them:
 *
 *   a selective query (WHERE ticker = ...) in DuckDB-WASM in Chromium, forced to the browser:
 *   the bytes it moves with HTTP range requests (footer + the row groups it cannot skip) and
 *   its time;
 *   a whole-table GROUP BY with DuckDB in Node (the server path, where big scans run), and in
 *   the browser too while the file is small enough for that to be the path `auto` takes.
 *
 * One line per layout: `layout=<rg>/<compression> file_bytes=... write_ms=... selective_bytes=...
 * selective_ms=... node_aggregate_ms=... browser_aggregate_ms=...`.
 */
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { withDb } from "../src/pipeline/index.ts";

interface Layout {
  readonly name: string;
  readonly rowGroupSize: number;
  readonly options: string;
}

const LAYOUTS: readonly Layout[] = [
  { name: "10k/zstd1", rowGroupSize: 10_000, options: "COMPRESSION zstd, COMPRESSION_LEVEL 1" },
  { name: "122880/zstd1", rowGroupSize: 122_880, options: "COMPRESSION zstd, COMPRESSION_LEVEL 1" },
  { name: "1M/zstd1", rowGroupSize: 1_000_000, options: "COMPRESSION zstd, COMPRESSION_LEVEL 1" },
  { name: "122880/snappy", rowGroupSize: 122_880, options: "COMPRESSION snappy" },
  { name: "122880/uncompressed", rowGroupSize: 122_880, options: "COMPRESSION uncompressed" },
  // Parquet 2 encodings (DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT...): smaller, but can the
  // explorer's DuckDB-WASM 1.27 (DuckDB 0.8.1) read them?
  {
    name: "122880/zstd1/v2",
    rowGroupSize: 122_880,
    options: "COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION V2",
  },
];

/** A browser aggregate over a bigger file than this is skipped (auto sends it to the server). */
const BROWSER_AGGREGATE_MAX_BYTES = 64 * 2 ** 20;

export interface LayoutBench {
  readonly baseFile: string;
  readonly cacheDir: string;
  readonly rounds: number;
  /** Commits `path` as curated/<dataset>; returns the file's path in the lake. */
  commit(path: string, dataset: string): Promise<string>;
  runInBrowser(sql: string, where: "local" | "server"): Promise<{ ms: number; lakeBytes: number }>;
  /** Reloads the explorer so it lists the datasets committed since it opened. */
  reloadExplorer(): Promise<void>;
  selectiveSql(dataset: string): string;
  aggregateSql(dataset: string): string;
}

export async function measureLayouts(bench: LayoutBench): Promise<void> {
  const files: { layout: Layout; dataset: string; path: string; bytes: number; writeMs: number }[] = [];
  for (const layout of LAYOUTS) {
    const dataset = `layout_${layout.name.replace(/[^a-z0-9]+/gi, "_")}`;
    const path = join(bench.cacheDir, `${dataset}.parquet`);
    await rm(path, { force: true });
    const started = Date.now();
    await withDb(
      (db) =>
        db.run(
          `COPY (SELECT * FROM read_parquet('${bench.baseFile}')) TO '${path}' (FORMAT parquet, ${layout.options}, ROW_GROUP_SIZE ${layout.rowGroupSize})`,
        ),
      { threads: 2, memoryLimit: "1GB", tempDirectory: bench.cacheDir },
    );
    const writeMs = Date.now() - started;
    const lakePath = await bench.commit(path, dataset);
    files.push({ layout, dataset, path: lakePath, bytes: (await stat(path)).size, writeMs });
  }
  await bench.reloadExplorer();
  for (const file of files) {
    const selective: { ms: number; lakeBytes: number }[] = [];
    const node: number[] = [];
    const browser: number[] = [];
    let error = "";
    for (let r = 0; r < bench.rounds; r++) {
      try {
        selective.push(await bench.runInBrowser(`${bench.selectiveSql(file.dataset)} -- ${r}`, "local"));
        if (file.bytes <= BROWSER_AGGREGATE_MAX_BYTES)
          browser.push((await bench.runInBrowser(`${bench.aggregateSql(file.dataset)} -- ${r}`, "local")).ms);
      } catch (failure) {
        error = (failure as Error).message.split("\n")[0]!;
      }
      const started = Date.now();
      await withDb(
        (db) =>
          db.all(
            bench
              .aggregateSql(file.dataset)
              .replace(`curated.${file.dataset}`, `read_parquet('${file.path}')`),
          ),
        { threads: 2 },
      );
      node.push(Date.now() - started);
    }
    const fields = [
      `layout=${file.layout.name}`,
      `file_bytes=${file.bytes}`,
      `write_ms=${file.writeMs}`,
      selective.length > 0
        ? `selective_bytes=${median(selective.map((s) => s.lakeBytes))} selective_pct=${((100 * median(selective.map((s) => s.lakeBytes))) / file.bytes).toFixed(3)} selective_ms=${median(selective.map((s) => s.ms))}`
        : `selective=unreadable_in_duckdb_wasm (${JSON.stringify(error)})`,
      `node_aggregate_ms=${median(node)}`,
      browser.length > 0 ? `browser_aggregate_ms=${median(browser)}` : "browser_aggregate_ms=skipped",
    ];
    console.log(fields.join(" "));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
