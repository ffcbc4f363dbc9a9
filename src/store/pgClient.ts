/**
 * PostgreSQL backend (`DATABASE_URL`): a `pg` pool shared by every request, scheduler tick and
 * run in this process; several processes may share the database (migrations and schedule ticks
 * are safe under concurrency). `schema` keeps a store in its own PostgreSQL schema (tests use a
 * unique one per run); it is created when missing and set as every connection's search_path.
 * LISTEN gets a connection of its own per listener (see pgListener.ts), named in
 * `pg_stat_activity` as `lakebook listen <schema>`.
 */
import type { Pool, PoolClient } from "pg";
import { StorageError } from "../errors.ts";
import { listenPg } from "./pgListener.ts";
import { quoteIdentifier, type SqlClient } from "./sqlClient.ts";
import { asStoreError } from "./unavailable.ts";

export interface PgOptions {
  readonly url: string;
  readonly schema?: string;
  /** Pool size (default 10). */
  readonly max?: number;
  /**
   * How long to wait for a connection (default 2 s) and for a query's answer (default 5 s)
   * before the query fails as STORE_UNAVAILABLE: an unreachable PostgreSQL must not hold requests.
   */
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
}

export async function createPgClient(options: PgOptions): Promise<SqlClient> {
  const { default: pg } = await import("pg");
  const schema = options.schema;
  const pool: Pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: options.queryTimeoutMs ?? 5000,
    keepAlive: true,
    ...(schema !== undefined && { options: `-c search_path=${quoteIdentifier(schema)}` }),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  try {
    if (schema !== undefined) await createSchema(pool, schema);
    else await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new StorageError(
      `cannot connect to PostgreSQL at ${redactUrl(options.url)} (${(error as Error).message}): ` +
        `check DATABASE_URL, or unset it to use the embedded store`,
      { cause: error },
    );
  }
  const listeners = new Set<() => Promise<void>>();
  const listen: SqlClient["listen"] = async (channel, listener) => {
    const stop = await listenPg(
      {
        url: options.url,
        channel,
        applicationName: `lakebook listen ${schema ?? "(search_path)"}`,
      },
      listener,
    );
    const unlisten = async (): Promise<void> => {
      listeners.delete(unlisten);
      await stop();
    };
    listeners.add(unlisten);
    return unlisten;
  };
  return wrap(pool, listen, async () => {
    await Promise.all([...listeners].map((unlisten) => unlisten()));
    await pool.end();
  });
}

/**
 * `CREATE SCHEMA IF NOT EXISTS` is not safe against itself: two processes starting together can
 * both pass the check and one fails on the catalog's unique index. That failure means "exists".
 */
async function createSchema(pool: Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "23505" && code !== "42P06") throw error;
  }
}

function wrap(pool: Pool, listen: SqlClient["listen"], close: () => Promise<void>): SqlClient {
  return {
    ...queries(pool),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
      const client = await pool.connect().catch((error: unknown) => {
        throw asStoreError(error);
      });
      try {
        await client.query("BEGIN");
        const result = await fn(inTransaction(client, listen));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw asStoreError(error);
      } finally {
        client.release();
      }
    },
    listen,
    close,
  };
}

/** A client inside an open transaction: a nested transaction joins it; LISTEN is the pool's. */
function inTransaction(client: PoolClient, listen: SqlClient["listen"]): SqlClient {
  const tx: SqlClient = {
    ...queries(client),
    transaction: (fn) => fn(tx),
    listen,
    close: async () => undefined,
  };
  return tx;
}

function queries(runner: Pool | PoolClient): Pick<SqlClient, "query"> {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      try {
        return (await runner.query(sql, params as unknown[])).rows as T[];
      } catch (error) {
        // An outage is told apart from a bad statement, so callers can serve cached answers.
        throw asStoreError(error);
      }
    },
  };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
