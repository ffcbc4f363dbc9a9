/**
 * In-process DuckDB for transforms between zones. One instance per unit of work: opened, used,
 * closed, so no state leaks between steps and memory is returned.
 *
 * Sandbox: a unit of work that runs SQL a user wrote (promotion models, quality predicates) or
 * reads the lake on a reader's behalf declares `access`, the exact files it is entitled to read
 * and the folders it may write (its scratch folder). Before `work` runs, external access is
 * switched off except for those paths, and the configuration is locked, so no statement can
 * read `/etc/passwd`, glob a folder, attach a database or turn access back on.
 */
import { resolve } from "node:path";
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { withSpan } from "../telemetry/index.ts";

/** Span attributes of a query (its text, cut short: parameters are never included). */
function statement(sql: string): Record<string, string> {
  return { "db.system.name": "duckdb", "db.query.text": sql.slice(0, 1000) };
}

export type SqlParams = Record<string, DuckDBValue> | DuckDBValue[];

export interface Db {
  run(sql: string, params?: SqlParams): Promise<void>;
  /** Rows as JSON-safe objects: DECIMAL and BIGINT come back as exact strings. */
  all(sql: string, params?: SqlParams): Promise<Record<string, unknown>[]>;
  columns(sql: string): Promise<{ name: string; type: string }[]>;
  readonly connection: DuckDBConnection;
}

/** What a sandboxed unit of work may touch on the local filesystem (see the module doc). */
export interface DbAccess {
  /** Files it may read: the data files of the dataset versions it works on, a landing file. */
  files: string[];
  /** Folders it may read and write: its scratch folder (the spill folder is added). */
  directories?: string[];
}

export interface DbOptions {
  threads?: number;
  tempDirectory?: string;
  memoryLimit?: string;
  /** Locks the connection down to these paths; omitted only for trusted, internal SQL. */
  access?: DbAccess;
}

export async function withDb<T>(work: (db: Db) => Promise<T>, options: DbOptions = {}): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(options.threads ?? 2),
    // Where sorts and joins larger than memory spill (a write's scratch folder, removed after it).
    ...(options.tempDirectory && { temp_directory: options.tempDirectory }),
    ...(options.memoryLimit && { memory_limit: options.memoryLimit }),
    // Never reach for the network: extensions are built in or not used.
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const connection = await instance.connect();
  // Timestamps are stored as UTC TIMESTAMPTZ; the session zone only affects rendering to text.
  await connection.run("SET TimeZone = 'UTC'");
  if (options.access) await lockDown(connection, options.access, options.tempDirectory);
  const db: Db = {
    connection,
    async run(sql, params) {
      await withSpan("duckdb query", statement(sql), () => connection.run(sql, params));
    },
    async all(sql, params) {
      const reader = await withSpan("duckdb query", statement(sql), () =>
        connection.runAndReadAll(sql, params),
      );
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    async columns(sql) {
      const reader = await connection.runAndReadAll(`DESCRIBE ${sql}`);
      return reader.getRowObjectsJson().map((row) => ({
        name: String(row.column_name),
        type: String(row.column_type),
      }));
    },
  };
  try {
    return await work(db);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Allows exactly the declared paths, turns external access off and locks the configuration.
 * The allow lists cannot change once access is off, so everything is declared up front.
 */
async function lockDown(connection: DuckDBConnection, access: DbAccess, tempDirectory?: string) {
  const files = access.files.map((path) => resolve(path));
  // A trailing separator, so `/lake/.tmp/scratch-1` does not also allow `/lake/.tmp/scratch-10`.
  const directories = [...(access.directories ?? []), ...(tempDirectory ? [tempDirectory] : [])].map(
    (path) => `${resolve(path)}/`,
  );
  const list = (paths: string[]) => `[${paths.map(quoteLiteral).join(", ")}]`;
  if (files.length > 0) await connection.run(`SET allowed_paths = ${list(files)}`);
  if (directories.length > 0) await connection.run(`SET allowed_directories = ${list(directories)}`);
  await connection.run("SET enable_external_access = false");
  await connection.run("SET lock_configuration = true");
}

/**
 * Settings for the zone-to-zone writes: DuckDB's memory is capped so ingesting a file of several
 * gigabytes stays well under 1.5 GB resident, and larger sorts and joins spill into the write's
 * scratch folder (removed with it).
 */
export function pipelineDbOptions(scratchDir: string): { tempDirectory: string; memoryLimit: string } {
  return { tempDirectory: scratchDir, memoryLimit: PIPELINE_MEMORY_LIMIT };
}

export const PIPELINE_MEMORY_LIMIT = "768MB";

/** Quotes an identifier for DuckDB SQL: the one place identifiers are built from names. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a string literal. Only for values DuckDB cannot take as a bound parameter (file paths in
 * COPY ... TO and table functions); everything else is bound.
 */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("NUL byte in SQL literal");
  return `'${value.replaceAll("'", "''")}'`;
}
