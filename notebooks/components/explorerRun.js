/**
 * Runs one explorer query: resolves its dataset references to exact versions (datasetRefs.js),
 * registers those versions in DuckDB-WASM, estimates the bytes it reads (queryPlanner.js) and runs
 * it in the browser or on the server, returning rows in one shape wherever it ran.
 */
import { arrowToRows } from "./arrowRows.js";
import { duckErrorPosition, originalPosition, resolveDatasetRefs } from "./datasetRefs.js";
import { query, registerDatasetVersion } from "./duckdb.js";
import { fetchVersion, serverQuery } from "./explorerApi.js";
import { LOCAL_BYTES_LIMIT, estimateBytes } from "./queryPlanner.js";

const registered = new Map();

/**
 * @param options.db        a promise of the AsyncDuckDB
 * @param options.datasets  the readable datasets (current versions)
 * @param options.server    whether POST /api/query is available
 */
export function createExplorerRunner({ db, datasets, server }) {
  const current = new Map(datasets.map((d) => [`${d.zone}.${d.dataset}`, d]));

  async function versionInfo(ref) {
    const head = current.get(`${ref.zone}.${ref.dataset}`);
    return head && head.version === ref.version ? head : fetchVersion(ref.zone, ref.dataset, ref.version);
  }

  async function register(ref) {
    const key = `${ref.zone}.${ref.dataset}@${ref.version}`;
    if (!registered.has(key)) {
      registered.set(
        key,
        versionInfo(ref).then(async (info) => ({
          key,
          info,
          fileNames: await registerDatasetVersion(await db, info),
        })),
      );
      registered.get(key).catch(() => registered.delete(key));
    }
    return registered.get(key);
  }

  return {
    /**
     * @param sql    the query as written
     * @param pins   "zone.dataset" -> version for unversioned references (a shared link's)
     * @param where  "auto" | "local" | "server"
     */
    async run(sql, { pins = {}, where = "auto" } = {}) {
      const started = performance.now();
      const resolved = resolveDatasetRefs(sql, datasets, pins);
      // Asked for the server: nothing to load in the browser (no engine, no footers).
      let estimate = null;
      let onServer = server && where === "server";
      if (!onServer) {
        const versions = await Promise.all(resolved.refs.map(register));
        estimate = await estimateBytes(
          await db,
          sql,
          versions.map((v) => ({
            key: v.key,
            fileNames: v.fileNames,
            schema: v.info.schema,
            bytes: v.info.bytes,
          })),
        );
        onServer = server && where === "auto" && estimate > LOCAL_BYTES_LIMIT;
      }
      let table;
      let transferred = null;
      let truncated = false;
      if (onServer) {
        const pinned = Object.fromEntries(resolved.refs.map((r) => [`${r.zone}.${r.dataset}`, r.version]));
        try {
          ({ table, bytes: transferred, truncated } = await serverQuery(sql, pinned));
        } catch (error) {
          // The server names the spot in the SQL as sent ("at character N").
          throw withPosition(error, duckErrorPosition(error?.message, sql));
        }
      } else {
        try {
          table = await query(await db, resolved.sql);
        } catch (error) {
          const position = duckErrorPosition(error?.message, resolved.sql);
          throw withPosition(
            error,
            position === undefined ? undefined : originalPosition(resolved.edits, position),
          );
        }
      }
      return {
        ...toResult(table),
        where: onServer ? "server" : "browser",
        estimate,
        transferred,
        truncated,
        refs: resolved.refs,
        elapsed: performance.now() - started,
      };
    },
  };
}

/** `error` with `position` (0-based, in the SQL as written) when one is known. */
function withPosition(error, position) {
  const wrapped = error instanceof Error ? error : new Error(String(error));
  if (position !== undefined) wrapped.position = position;
  return wrapped;
}

/** Arrow table (from DuckDB-WASM or the server) -> {columns: [{name, kind, type}], rows}. */
export function toResult(table) {
  const { rows } = arrowToRows(table);
  const columns = table.schema.fields.map((field) => {
    const declared = field.metadata?.get?.("lakebook.type");
    return { name: field.name, type: declared ?? String(field.type), kind: kindOf(field.type, declared) };
  });
  return { columns, rows };
}

function kindOf(type, declared) {
  if (declared) {
    if (
      /^(DECIMAL|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE)/.test(
        declared,
      )
    )
      return "number";
    if (/^(DATE|TIMESTAMP)/.test(declared)) return "date";
    if (declared === "BOOLEAN") return "boolean";
    return "string";
  }
  switch (type?.typeId) {
    case 2:
    case 3:
    case 7:
      return "number";
    case 8:
    case 10:
      return "date";
    case 6:
      return "boolean";
    default:
      return "string";
  }
}
