/**
 * A commit lock shared by every machine that writes one S3 lake: a PostgreSQL session-level
 * advisory lock on the record store's database (DATABASE_URL). Held on a dedicated connection for
 * the duration of one commit, so a writer that dies mid-commit releases it with its connection;
 * no lock file to clean up. `createLake` uses it for S3 lakes whenever a database is configured.
 */
import { StorageError } from "../errors.ts";
import type { CommitLock } from "./commitLock.ts";

export interface PgCommitLock extends CommitLock {
  close(): Promise<void>;
}

const LOCK_TIMEOUT = /^55P03$/; // lock_not_available

export function createPgCommitLock(databaseUrl: string, options: { timeoutMs?: number } = {}): PgCommitLock {
  const timeoutMs = options.timeoutMs ?? 30_000;
  // pg is loaded on first use: filesystem lakes never need it.
  const pool = import("pg").then(
    ({ default: pg }) =>
      // allowExitOnIdle: a CLI run or a loader must not wait for idle connections to time out.
      new pg.Pool({ connectionString: databaseUrl, max: 4, idleTimeoutMillis: 1000, allowExitOnIdle: true }),
  );
  return {
    async withLock(name, work) {
      const key = `lakebook commit ${name}`;
      let client;
      try {
        client = await (await pool).connect();
      } catch (error) {
        throw new StorageError(
          `cannot reach PostgreSQL for the lake's commit lock (${(error as Error).message}): check DATABASE_URL`,
          { cause: error, code: "UNAVAILABLE" },
        );
      }
      try {
        await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
        try {
          await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key]);
        } catch (error) {
          if (LOCK_TIMEOUT.test(String((error as { code?: string }).code))) {
            throw new StorageError(
              `timed out after ${timeoutMs} ms waiting for the commit lock on '${name}'`,
              {
                cause: error,
                code: "LOCKED",
              },
            );
          }
          throw error;
        }
        try {
          return await work();
        } finally {
          await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
        }
      } finally {
        client.release();
      }
    },
    async close() {
      await (await pool).end();
    },
  };
}
