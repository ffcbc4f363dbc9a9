/**
 * Explorer SQL run on the server with DuckDB in Node, over the same dataset versions the browser
 * would read. Locked down, in this order, so user SQL can reach nothing else:
 *
 * 1. The query's dataset references are resolved against the datasets the reader may read
 *    (datasetRefs.js, shared with the browser); anything else is refused before DuckDB runs.
 * 2. A fresh in-memory DuckDB per query gets one view per referenced version, then
 *    `allowed_paths` (exactly those files), `enable_external_access = false` and
 *    `lock_configuration = true`: no other file, no network, no ATTACH, COPY TO or INSTALL, and
 *    no setting can be changed back.
 * 3. Exactly one statement, and it must be a SELECT (or EXPLAIN): SET, PRAGMA, LOAD, CALL,
 *    CREATE, COPY and ATTACH are refused by type.
 * 4. Memory (`memory_limit`), threads, time (the connection is interrupted) and rows (the stream
 *    stops at the limit) are capped.
 */
import type { Writable } from "node:stream";
import { DuckDBInstance, StatementType } from "@duckdb/node-api";
import type { Config } from "../../src/config.ts";
import { HttpError, isLakebookError } from "../../src/errors.ts";
import { createLake, readManifest } from "../../src/lake/index.ts";
import { quoteIdentifier, quoteLiteral } from "../../src/pipeline/index.ts";
import {
  DatasetRefError,
  duckErrorPosition,
  originalPosition,
  resolveDatasetRefs,
  type DatasetRef,
} from "../../notebooks/components/datasetRefs.js";
import type { AccessControl, Principal } from "../auth/accessControl.ts";
import { createArrowResultWriter } from "./arrowStream.ts";
import { listExplorerDatasets } from "./datasets.ts";

export interface QueryLimits {
  /** Rows sent at most; the result is cut there (default 1,000,000). */
  readonly maxRows: number;
  /** Wall time before the query is interrupted (default 30 s). */
  readonly timeoutMs: number;
  /** DuckDB memory_limit (default 1GB). */
  readonly memoryLimit: string;
  readonly threads: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxRows: 1_000_000,
  timeoutMs: 30_000,
  memoryLimit: "1GB",
  threads: 2,
};

/** A query checked, bound and started: its first rows are in, so it did not fail to start. */
export interface StartedQuery {
  readonly refs: readonly DatasetRef[];
  /** Streams the rows as Arrow IPC to `out`; resolves with the rows sent. */
  pipe(out: Writable): Promise<{ rows: number; truncated: boolean }>;
  close(): void;
}

const ALLOWED_STATEMENTS = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

export async function startServerQuery(
  config: Config,
  access: AccessControl,
  principal: Principal,
  request: { sql: string; pins?: Readonly<Record<string, number>> },
  limits: QueryLimits = DEFAULT_QUERY_LIMITS,
): Promise<StartedQuery> {
  const readable = await listExplorerDatasets(config, access, principal);
  let resolved: ReturnType<typeof resolveDatasetRefs>;
  try {
    resolved = resolveDatasetRefs(request.sql, readable, request.pins ?? {});
  } catch (error) {
    if (error instanceof DatasetRefError) throw queryError(error.message, error.position);
    throw error;
  }
  const storage = createLake(config).storage;
  const views: { ref: DatasetRef; paths: string[] }[] = [];
  for (const ref of resolved.refs) {
    let manifest;
    try {
      manifest = await readManifest(storage, ref.zone as "curated", ref.dataset, ref.version);
    } catch (error) {
      if (isLakebookError(error)) throw queryError(error.message);
      throw error;
    }
    const paths = await Promise.all(manifest.files.map((f) => storage.localPath(f.key)));
    views.push({ ref, paths });
  }

  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(limits.threads),
    memory_limit: limits.memoryLimit,
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const connection = await instance.connect();
  // DuckDB's caret points into the rewritten SQL; the reader is told the spot in what they wrote.
  const sqlError = (error: unknown, message = duckMessage(error)) => {
    const position = duckErrorPosition((error as Error)?.message ?? error, resolved.sql);
    return queryError(
      message,
      position === undefined ? undefined : originalPosition(resolved.edits, position),
    );
  };
  const close = () => {
    connection.closeSync();
    instance.closeSync();
  };
  try {
    await connection.run("SET TimeZone = 'UTC'");
    for (const { ref, paths } of views) {
      const schema = quoteIdentifier(`${ref.zone}@${ref.version}`);
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const list = `[${paths.map(quoteLiteral).join(", ")}]`;
      await connection.run(
        `CREATE VIEW ${schema}.${quoteIdentifier(ref.dataset)} AS SELECT * FROM read_parquet(${list}, hive_partitioning = false)`,
      );
    }
    const allowed = views.flatMap((v) => v.paths);
    await connection.run(`SET allowed_paths = [${allowed.map(quoteLiteral).join(", ")}]`);
    await connection.run("SET enable_external_access = false");
    await connection.run("SET lock_configuration = true");

    const statements = await connection.extractStatements(resolved.sql).catch((error: unknown) => {
      throw sqlError(error);
    });
    if (statements.count !== 1)
      throw queryError(`send exactly one SQL statement (this has ${statements.count})`);
    const prepared = await statements.prepare(0).catch((error: unknown) => {
      throw sqlError(error);
    });
    if (!ALLOWED_STATEMENTS.has(prepared.statementType))
      throw queryError("only SELECT queries run on the server: the datasets are read-only");
    const timer = setTimeout(() => connection.interrupt(), limits.timeoutMs);
    const stopTimer = () => clearTimeout(timer);
    let result;
    let first;
    try {
      result = await prepared.stream();
      first = await result.fetchChunk();
    } catch (error) {
      stopTimer();
      throw sqlError(error, timedOut(error, limits) ?? duckMessage(error));
    }
    const started = result;
    return {
      refs: resolved.refs,
      async pipe(out) {
        let rows = 0;
        let truncated = false;
        try {
          const writer = createArrowResultWriter(started.columnNames(), started.columnTypes(), out);
          let chunk = first;
          while (chunk && chunk.rowCount > 0) {
            rows += writer.write(chunk, limits.maxRows - rows);
            chunk = await started.fetchChunk();
            if (rows >= limits.maxRows) {
              truncated = chunk !== null && chunk.rowCount > 0;
              break;
            }
          }
          await writer.finish();
          return { rows, truncated };
        } finally {
          stopTimer();
        }
      },
      close,
    };
  } catch (error) {
    close();
    if (error instanceof HttpError) throw error;
    throw queryError(duckMessage(error));
  }
}

/** DuckDB's first line ("Parser Error: syntax error at or near ..."), never a stack. */
export function duckMessage(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "query failed";
}

function timedOut(error: unknown, limits: QueryLimits): string | undefined {
  return /interrupt/i.test(duckMessage(error))
    ? `the query ran longer than the server's limit of ${limits.timeoutMs / 1000} s: narrow it (WHERE, LIMIT) or aggregate`
    : undefined;
}

function queryError(message: string, position?: number): HttpError {
  const error = new HttpError(
    400,
    position === undefined ? message : `${message} (at character ${position + 1})`,
  );
  return error;
}
