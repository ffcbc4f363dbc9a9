/**
 * Observable Framework configuration for the Lakebook notebooks.
 *
 * Builds run with no internet (see src/site/): every library the pages import is served to
 * Framework from node_modules (src/site/localNpm.ts), and a page importing a package that is not
 * installed fails with the command to install it. Paths here are relative to the project root;
 * `buildSite` passes absolute ones (root, output) itself.
 *
 * DuckDB in the browser: pages use `openDuckDB()` from `notebooks/components/duckdb.js`
 * (DuckDB-WASM 1.27.0, Parquet built in, served from this site). Framework's own `sql` front
 * matter and `DuckDBClient` load DuckDB-WASM 1.29.0, whose Parquet and JSON readers are
 * extensions downloaded from extensions.duckdb.org, so they fail offline and `lakebook build`
 * rejects them (the extension files are not on npm, so they cannot come from node_modules).
 */
const tsxLoader = new URL("./node_modules/tsx/dist/loader.mjs", import.meta.url);

export default {
  root: "notebooks",
  title: "Lakebook",
  // The default theme pulls Source Serif 4 from Google Fonts; style.css self-hosts it instead.
  globalStylesheets: ["/style.css"],
  // No external links in the footer: every page stays free of off-origin URLs.
  footer: "Lakebook",
  // An inline icon: browsers ask for /favicon.ico otherwise, which the static build lacks.
  head: `<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%234269d0'/%3E%3Cpath d='M3 11h10M3 8h10M3 5h10' stroke='white'/%3E%3C/svg%3E">`,
  // Run TypeScript loaders with this project's tsx, without relying on PATH.
  interpreters: {
    ".ts": [process.execPath, "--import", tsxLoader.href],
  },
};
