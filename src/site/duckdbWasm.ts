/**
 * Which DuckDB-WASM Framework's own DuckDB support (`sql` front matter, `DuckDBClient`, an
 * unversioned `npm:@duckdb/duckdb-wasm`) gets in an offline build.
 *
 * Framework 1.13 pins DuckDB-WASM 1.29.0 (DuckDB 1.1.1), which has no Parquet or JSON reader of
 * its own: the page installs them at run time from extension files Framework downloads from
 * extensions.duckdb.org at build time. Offline there is no such download, so `read_parquet` fails.
 * DuckDB-WASM 1.27.0 (DuckDB 0.8.1) has Parquet built in. So, unless the project installs 1.29.0
 * itself, the pinned version is answered with the installed one (1.27.0, Lakebook's own):
 *
 * - the registry's answer for the package lists the pinned version beside the installed one, and
 *   files of `@duckdb/duckdb-wasm@1.29.0` are the installed version's files (localNpm.ts);
 * - the config's DuckDB extensions leave out `parquet` (built in) and, unless the project names it,
 *   `json` (not available in 1.27.0), so Framework downloads no extension (`offlineDuckDBSpec`).
 *
 * The trade-off, stated in the README: SQL pages run DuckDB 0.8.1 (no JSON reader, older SQL
 * dialect), but read CSV and Parquet with no network. A project that wants 1.29.0 installs it
 * (`npm install --save-exact @duckdb/duckdb-wasm@1.29.0`) and self-hosts its extension files in
 * `.observablehq/cache/_duckdb/extensions.duckdb.org/v1.1.1/wasm_{eh,mvp}/` (Framework then finds
 * them there and downloads nothing).
 */

/** The DuckDB-WASM version Framework 1.13 resolves `npm:@duckdb/duckdb-wasm` to. */
export const FRAMEWORK_DUCKDB_WASM = "1.29.0";

export const DUCKDB_WASM_PACKAGE = "@duckdb/duckdb-wasm";

/** True for DuckDB-WASM versions with the Parquet reader compiled in (before 1.28). */
export function hasBuiltInParquet(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major === 1 && minor !== undefined && minor < 28;
}

/**
 * True when a request for `@duckdb/duckdb-wasm@<requested>` is answered with the installed
 * version instead: Framework's pin, with a built-in-Parquet version installed.
 */
export function substitutesDuckDB(name: string, requested: string, installed: string | undefined): boolean {
  return (
    name === DUCKDB_WASM_PACKAGE &&
    requested === FRAMEWORK_DUCKDB_WASM &&
    installed !== undefined &&
    installed !== requested &&
    hasBuiltInParquet(installed)
  );
}

/**
 * The Framework config with DuckDB extensions Framework need not download when the installed
 * DuckDB-WASM stands in for its pin: `parquet` (built in) always, `json` unless the project asks
 * for it (then the build fails naming the download, as any network access does).
 */
export function offlineDuckDBSpec(
  spec: Readonly<Record<string, unknown>>,
  installed: string | undefined,
): Record<string, unknown> {
  if (!substitutesDuckDB(DUCKDB_WASM_PACKAGE, FRAMEWORK_DUCKDB_WASM, installed)) return { ...spec };
  const duckdb = (spec.duckdb ?? {}) as Record<string, unknown>;
  const named = duckdb.extensions;
  const extensions: Record<string, unknown> = Array.isArray(named)
    ? Object.fromEntries(named.map((name: unknown) => [String(name), {}]))
    : { ...((named ?? {}) as Record<string, unknown>) };
  // null is Framework's "no such extension" (config.js skips it); undefined would mean the default.
  extensions.parquet = null;
  if (extensions.json === undefined || extensions.json === false) extensions.json = null;
  return { ...spec, duckdb: { ...duckdb, extensions } };
}
