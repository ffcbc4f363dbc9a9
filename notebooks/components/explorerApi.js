/**
 * The explorer's calls to the server: the datasets this reader may query (only those: a
 * restricted dataset is never named to the page), one older version for time travel, and
 * server-side queries answered as Arrow IPC. All same-origin, with the session cookie.
 */
import { tableFromIPC } from "npm:apache-arrow";

/** The readable datasets, or null when this server has no explorer API (e.g. an old server). */
export async function fetchDatasets() {
  const response = await fetch("/api/explorer/datasets", { credentials: "same-origin" });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(await errorText(response));
  return (await response.json()).datasets;
}

const versions = new Map();

/** One version of a dataset ({zone, dataset, version, files, schema, ...}), cached. */
export function fetchVersion(zone, dataset, version) {
  const key = `${zone}.${dataset}@${version}`;
  if (!versions.has(key)) {
    const path = `/api/explorer/datasets/${encodeURIComponent(zone)}/${encodeURIComponent(dataset)}/versions/${version}`;
    versions.set(
      key,
      fetch(path, { credentials: "same-origin" }).then(async (response) => {
        if (response.ok) return response.json();
        versions.delete(key);
        if (response.status === 404)
          throw new Error(`${zone}.${dataset} has no version ${version} that you may read`);
        throw new Error(await errorText(response));
      }),
    );
  }
  return versions.get(key);
}

let csrf;

async function csrfToken() {
  csrf ??= fetch("/api/session", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((s) => s.csrfToken ?? "");
  return csrf;
}

/**
 * Runs `sql` on the server (DuckDB in Node over the same versions: `pins`), returns the Arrow
 * table, the bytes transferred and whether the server's row limit cut the result.
 */
export async function serverQuery(sql, pins, signal) {
  const headers = { "content-type": "application/json" };
  const token = await csrfToken();
  if (token) headers["x-csrf-token"] = token;
  const response = await fetch("/api/query", {
    method: "POST",
    credentials: "same-origin",
    headers,
    body: JSON.stringify({ sql, pins }),
    signal,
  });
  if (!response.ok) throw new Error(await errorText(response));
  let bytes;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`the server stopped the query before its end (a limit or an error): ${error.message}`);
  }
  const table = tableFromIPC(bytes);
  const limit = Number(response.headers.get("x-lakebook-row-limit"));
  return { table, bytes: bytes.byteLength, truncated: limit > 0 && table.numRows >= limit };
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body?.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}
