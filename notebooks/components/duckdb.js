/**
 * DuckDB-WASM for Lakebook pages, served entirely from the site's own origin.
 *
 *   import {openDuckDB, registerParquetUrl, query} from "./components/duckdb.js";
 *   const db = await openDuckDB();
 *   await registerParquetUrl(db, "trips", "/lake/curated/trips/v3/part-0.parquet");
 *   const table = await query(db, "SELECT count(*) AS n FROM trips");
 *
 * Why 1.27.0, pinned: Framework's `sql`/DuckDBClient use DuckDB-WASM 1.29.0, whose Parquet reader
 * is an extension fetched from extensions.duckdb.org at run time, so it fails offline and sends
 * every reader's browser to a third party. 1.27.0 has Parquet compiled in and reads remote files
 * with HTTP range requests (a selective query reads ~1% of a 36 MB file). The worker and wasm
 * files are referenced with import.meta.resolve, so Framework copies them into the build (the
 * build vendors them from node_modules; see src/site/vendor.ts).
 *
 * Extensions: nothing is ever downloaded. The extension repository is pointed at this site
 * (`<site>/_duckdb-extensions`, empty by default) so an accidental INSTALL cannot leave the
 * origin, and autoloading is switched off where the engine knows the setting. JSON is not built
 * into 1.27.0. Trade-off: to use an extension (json, or a newer engine), self-host its files —
 * either put `v<duckdb version>/wasm_<eh|mvp>/<name>.duckdb_extension.wasm` (matching this engine
 * exactly) under a folder the site serves and pass `{extensionRepository, extensions: ["json"]}`,
 * or move to 1.29.0 with Framework's `duckdb.extensions` setting (see observablehq.config.ts),
 * which downloads the files once at build time and self-hosts them; both need the extension
 * files from somewhere once, and must be refreshed with every engine upgrade.
 */
import * as duckdb from "npm:@duckdb/duckdb-wasm@1.27.0";

const BUNDLES = {
  mvp: {
    mainModule: import.meta.resolve("npm:@duckdb/duckdb-wasm@1.27.0/dist/duckdb-mvp.wasm"),
    mainWorker: import.meta.resolve("npm:@duckdb/duckdb-wasm@1.27.0/dist/duckdb-browser-mvp.worker.js"),
  },
  eh: {
    mainModule: import.meta.resolve("npm:@duckdb/duckdb-wasm@1.27.0/dist/duckdb-eh.wasm"),
    mainWorker: import.meta.resolve("npm:@duckdb/duckdb-wasm@1.27.0/dist/duckdb-browser-eh.worker.js"),
  },
};

/** The default, deliberately empty, same-origin extension repository. */
const SITE_EXTENSIONS = "_duckdb-extensions";

/**
 * Starts DuckDB-WASM in a worker from this site's files (eh bundle where the browser supports
 * WebAssembly exceptions, mvp otherwise) and returns the AsyncDuckDB.
 *
 * options.extensionRepository: absolute or page-relative URL of self-hosted extension files.
 * options.extensions: extension names to INSTALL and LOAD from that repository.
 * options.logger: a duckdb-wasm Logger (default: silent).
 */
export async function openDuckDB({ extensionRepository, extensions = [], logger } = {}) {
  const bundle = await duckdb.selectBundle(BUNDLES);
  const worker = new Worker(bundle.mainWorker);
  const db = new duckdb.AsyncDuckDB(logger ?? new duckdb.VoidLogger(), worker);
  try {
    await db.instantiate(bundle.mainModule, bundle.pthreadWorker);
    await db.open({ query: { castBigIntToDouble: true }, filesystem: { allowFullHTTPReads: false } });
    const repository = new URL(extensionRepository ?? SITE_EXTENSIONS, document.baseURI).href.replace(
      /\/$/,
      "",
    );
    const conn = await db.connect();
    try {
      await conn.query(`SET custom_extension_repository = ${quoteString(repository)}`);
      for (const setting of ["autoinstall_known_extensions", "autoload_known_extensions"]) {
        // Only DuckDB >= 0.8 knows these; older engines never autoload anyway.
        await conn.query(`SET ${setting} = false`).catch(() => {});
      }
      for (const name of extensions) {
        if (!/^\w+$/.test(name))
          throw new Error(`invalid DuckDB extension name '${name}': use letters, digits and _`);
        await conn.query(`INSTALL ${name}`);
        await conn.query(`LOAD ${name}`);
      }
    } finally {
      await conn.close();
    }
    return db;
  } catch (error) {
    await db.terminate();
    throw error;
  }
}

/**
 * Makes the Parquet file at `url` (same origin, or a server allowing CORS and Range requests)
 * queryable as the view `name`. DuckDB reads it over HTTP with range requests: only the footer
 * and the row groups and columns a query needs are transferred.
 */
export async function registerParquetUrl(db, name, url) {
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`invalid table name '${name}': use letters, digits and _, not starting with a digit`);
  }
  const href = new URL(url, document.baseURI).href;
  const file = `${name}.parquet`;
  await db.registerFileURL(file, href, duckdb.DuckDBDataProtocol.HTTP, false);
  const conn = await db.connect();
  try {
    await conn.query(
      `CREATE OR REPLACE VIEW ${quoteIdentifier(name)} AS SELECT * FROM read_parquet(${quoteString(file)})`,
    );
  } finally {
    await conn.close();
  }
}

/**
 * Makes one dataset version queryable as `"<zone>@<version>"."<dataset>"` (the name
 * datasetRefs.js rewrites `zone.dataset@version` to), over its files' URLs. Registering a version
 * twice is a no-op.
 */
export async function registerDatasetVersion(db, { zone, dataset, version, files }) {
  const schema = quoteIdentifier(`${zone}@${version}`);
  const names = [];
  for (const [i, file] of files.entries()) {
    const href = new URL(file.url, document.baseURI).href;
    const name = `${zone}@${version}/${dataset}/${i}.parquet`;
    await db.registerFileURL(name, href, duckdb.DuckDBDataProtocol.HTTP, false);
    names.push(name);
  }
  const conn = await db.connect();
  try {
    await conn.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await conn.query(
      `CREATE OR REPLACE VIEW ${schema}.${quoteIdentifier(dataset)} AS SELECT * FROM read_parquet([${names.map(quoteString).join(", ")}])`,
    );
  } finally {
    await conn.close();
  }
  return names;
}

/** Runs one SQL statement and returns the result as an Apache Arrow table. */
export async function query(db, sql) {
  const conn = await db.connect();
  try {
    return await conn.query(sql);
  } finally {
    await conn.close();
  }
}

export function quoteIdentifier(name) {
  return `"${String(name).replace(/"/g, '""')}"`;
}

export function quoteString(value) {
  return `'${String(value).replace(/'/g, "''")}'`;
}
