/**
 * The real PostgreSQL the tests use (127.0.0.1:5432, database `test`, trust auth; override with
 * LAKEBOOK_TEST_DATABASE_URL), and what the listener tests need to watch and cut its connections.
 */
import pg from "pg";

export const TEST_DATABASE_URL =
  process.env.LAKEBOOK_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The backend pids of the store listeners of `schema` (their application_name names it). */
export async function listenerPids(schema: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
      [`lakebook listen ${schema}`],
    );
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

/** Ends the given backends, as a failover or a dropped network would. */
export async function terminateBackends(pids: readonly number[]): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query("SELECT pg_terminate_backend(pid) FROM unnest($1::integer[]) AS pid", [pids]);
  } finally {
    await client.end();
  }
}
