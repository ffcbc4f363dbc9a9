// PostgreSQL source demo: a parameterized query (rows generated server-side) streamed into
// Parquet and landed; the rows shown are read back from that Parquet, with their exact types.
// When PostgreSQL is not reachable the page says so instead of failing the build.
import { configFromEnv, createLake, parquetRelation, runPostgresSource, withDb } from "lakebook";

// The sample sources change rarely; rebuilds within the hour reuse what they fetched.
export const maxAge = "1h";

const config = configFromEnv();
const lake = createLake(config);
const connectionString = config.databaseUrl ?? "postgres://postgres@127.0.0.1:5432/test";
const query = `SELECT d::date AS day, (100 + (extract(doy FROM d) % 7) * 12.5)::numeric(12,2) AS volume_m3,
  d + interval '6 hours' AS measured_at, CASE WHEN extract(dow FROM d) = 0 THEN NULL ELSE 'ok' END AS flag
  FROM generate_series($1::date, $2::date, interval '1 day') AS d`;
try {
  const result = await runPostgresSource(
    { lake },
    {
      source: "demo_postgres_volumes",
      connectionString,
      query,
      params: ["2024-06-01", "2024-06-14"],
      connectTimeoutMs: 3000,
    },
  );
  const path = await lake.storage.localPath(result.key!);
  const rows = await withDb((db) => db.all(`SELECT * FROM ${parquetRelation([path])} ORDER BY day`));
  process.stdout.write(
    JSON.stringify({ status: "ok", columns: result.columns, notes: result.notes, rows, run: result.run }),
  );
} catch (error) {
  process.stdout.write(
    JSON.stringify({ status: "not configured", message: (error as Error).message, rows: [] }),
  );
}
