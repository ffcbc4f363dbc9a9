/**
 * Child process for the memory test: streams a table out with the PostgreSQL source and prints
 * the peak RSS growth over a baseline taken after the libraries are loaded and warmed up.
 * Usage: postgresRss.ts <tempDir> <databaseUrl> <table>
 */
import { join } from "node:path";
import { createLake } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import { runPostgresSource } from "../../src/sources/index.ts";

const [dir, databaseUrl, table] = process.argv.slice(2) as [string, string, string];
const lake = createLake({ lakeDir: join(dir, "lake") });
// Warm-up: load pg, pg-cursor and DuckDB and run a tiny extraction, so the baseline holds them.
await runPostgresSource(
  { lake },
  { source: "warmup", connectionString: databaseUrl, query: "SELECT 1 AS x" },
);
global.gc?.();
const baseline = process.memoryUsage().rss;
const started = Date.now();
const result = await runPostgresSource(
  { lake },
  { source: "big", connectionString: databaseUrl, query: `SELECT * FROM ${table} ORDER BY id` },
);
const seconds = (Date.now() - started) / 1000;
// maxRSS is the peak over the whole process life, in kilobytes.
const peak = process.resourceUsage().maxRSS * 1024;
const parquetRows = await withDb(async (db) => {
  const [row] = await db.all(
    `SELECT count(*) AS n FROM ${parquetRelation([await lake.storage.localPath(result.key!)])}`,
  );
  return Number(row?.n);
});
process.stdout.write(
  JSON.stringify({
    rows: result.rows,
    parquetRows,
    growthMb: Math.round((peak - baseline) / 1024 / 1024),
    baselineMb: Math.round(baseline / 1024 / 1024),
    peakMb: Math.round(peak / 1024 / 1024),
    seconds,
  }) + "\n",
);
