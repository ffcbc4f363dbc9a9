/**
 * A local stand-in for the two npm services Observable Framework downloads from at build time:
 * the registry (which version does `npm:d3` mean?) and jsDelivr (the file `d3@7.9.2/+esm`).
 *
 * Vendoring by discovery: Framework itself works out every `npm:` specifier a page needs — static
 * and dynamic imports, versions and subpaths, `npm:` stylesheets, and its implicit imports (`d3`,
 * `Plot`, `Inputs`, `FileAttachment.parquet()` -> apache-arrow and parquet-wasm, `tex`, `dot`,
 * `mermaid`, xlsx, zip, sqlite, ...) — and asks for each file it lacks in
 * `<root>/.observablehq/cache/_npm/`. networkGuard.ts routes those requests here, and they are
 * answered from the project's `node_modules` (then Lakebook's own), so there is no list to keep:
 * - a version question gets the installed version;
 * - `<name>@<version>/+esm` (or `<subpath>/+esm`) gets a self-contained esbuild bundle for the
 *   browser, as jsDelivr's `+esm` would (no further imports to resolve);
 * - any other path (`dist/duckdb-eh.wasm`, `dist/katex.min.css`, `package.json`) gets the file.
 * Framework writes the answers into its cache, so later builds reuse them. A package that is not
 * installed, or installed at another version than the one imported, is a MissingPackageError
 * naming the exact `npm install --save-exact` to run.
 *
 * Bundles are patched where a library would need `eval` under the server's Content-Security-
 * Policy: d3-dsv's row converter (used by every `csv()`/`tsv()` parse, typed or not) is compiled
 * with `new Function`; it is replaced by an equivalent closure (see D3_DSV_CONVERTER).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";
import { BuildError } from "../errors.ts";
import { FRAMEWORK_DUCKDB_WASM, substitutesDuckDB } from "./duckdbWasm.ts";

/** First line of every bundle this module writes; a cached `_esm.js` without it is rebuilt. */
export const BUNDLE_BANNER = "/* lakebook bundle 2 */";

/** Lakebook's own install, searched after the project's. */
export const LAKEBOOK_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The version a registry answer carries for a package that is not installed (never fetched). */
export const MISSING_VERSION = "0.0.0-lakebook-not-installed";

/** A page needs an npm package that is not installed locally (or not at the version it names). */
export class MissingPackageError extends BuildError {
  constructor(
    readonly specifier: string,
    readonly install: string,
    detail: string,
  ) {
    super(`imports ${specifier}, ${detail}: run \`${install}\` in the project folder and build again`);
  }
}

/** An installed package: its folder, version, and the folder esbuild resolves it from. */
interface Installed {
  readonly dir: string;
  readonly version: string;
  readonly resolveDir: string;
}

export interface LocalNpm {
  /** Answers a registry.npmjs.org or cdn.jsdelivr.net request, or undefined for other URLs. */
  respond(url: URL): Promise<Response | undefined>;
  /** The installed version of `name`, or undefined. */
  installedVersion(name: string): Promise<string | undefined>;
}

/**
 * Serves npm files from `node_modules` under `searchRoots`, in order (Node resolution, walking
 * up from each). Bundles are built on demand; Framework caches them.
 */
export function createLocalNpm(searchRoots: readonly string[] = [LAKEBOOK_ROOT]): LocalNpm {
  const found = new Map<string, Promise<Installed | undefined>>();
  const find = (name: string) => {
    let entry = found.get(name);
    if (!entry) found.set(name, (entry = findInstalled(searchRoots, name)));
    return entry;
  };
  return {
    async installedVersion(name) {
      return (await find(name))?.version;
    },
    async respond(url) {
      if (url.hostname === "registry.npmjs.org") return registryAnswer(url, find);
      if (url.hostname === "cdn.jsdelivr.net" && url.pathname.startsWith("/npm/")) {
        return fileAnswer(decodeURIComponent(url.pathname.slice("/npm/".length)), find);
      }
      return undefined;
    },
  };
}

async function registryAnswer(
  url: URL,
  find: (name: string) => Promise<Installed | undefined>,
): Promise<Response> {
  const segments = decodeURIComponent(url.pathname.slice(1)).split("/");
  const name = segments[0]?.startsWith("@") ? segments.slice(0, 2).join("/") : (segments[0] ?? "");
  const disttag = segments.slice(name.startsWith("@") ? 2 : 1).join("/");
  // Framework resolves a version for every library its client bundle can load lazily, used or
  // not; a package that is not installed gets a version that fails only if a page fetches it.
  const version = (await find(name))?.version ?? MISSING_VERSION;
  const versions: Record<string, { name: string; version: string }> = { [version]: { name, version } };
  // Framework's DuckDB pin resolves to a version this install answers for (duckdbWasm.ts).
  if (substitutesDuckDB(name, FRAMEWORK_DUCKDB_WASM, version))
    versions[FRAMEWORK_DUCKDB_WASM] = { name, version: FRAMEWORK_DUCKDB_WASM };
  const body = disttag ? { name, version } : { name, "dist-tags": { latest: version }, versions };
  return Response.json(body);
}

async function fileAnswer(
  spec: string,
  find: (name: string) => Promise<Installed | undefined>,
): Promise<Response> {
  const { name, version, path } = parseSpec(spec);
  const shown = `npm:${name}${path && path !== "+esm" ? `/${path.replace(/\/\+esm$/, "")}` : ""}`;
  const installed = await find(name);
  if (!installed) {
    throw new MissingPackageError(
      shown,
      `npm install --save-exact ${name}${version === MISSING_VERSION ? "" : `@${version}`}`,
      `which is not installed in the project's node_modules (nor Lakebook's)`,
    );
  }
  // Framework's DuckDB pin is answered with the installed built-in-Parquet version (duckdbWasm.ts).
  const substitute = substitutesDuckDB(name, version, installed.version);
  if (installed.version !== version && !substitute && name === "@duckdb/duckdb-wasm") {
    throw new MissingPackageError(
      `npm:${name}@${version}`,
      `npm install --save-exact ${name}@${version}`,
      `but node_modules holds ${installed.version}. DuckDB-WASM 1.28 and later load their Parquet ` +
        `reader from extensions.duckdb.org, which an offline build cannot reach: import it without a ` +
        `version (Framework's \`sql\` and DuckDBClient then get ${installed.version}), or install ` +
        `${version} and self-host its extension files (README, "DuckDB in the browser, offline"); ` +
        `to install it anyway`,
    );
  }
  if (installed.version !== version && !substitute) {
    throw new MissingPackageError(
      `${shown} at ${version}`,
      `npm install --save-exact ${name}@${version}`,
      `but ${installed.dir} holds ${installed.version} (import it without a version to use the installed one)`,
    );
  }
  if (path === "+esm" || path.endsWith("/+esm")) {
    const subpath = path === "+esm" ? "" : path.slice(0, -"/+esm".length);
    const code = await bundle(installed, name, subpath);
    return new Response(code, { headers: { "Content-Type": "application/javascript; charset=utf-8" } });
  }
  const file = resolve(installed.dir, path);
  if (!file.startsWith(installed.dir + "/") || !existsSync(file)) {
    throw new MissingPackageError(
      `npm:${name}/${path}`,
      `npm install --save-exact ${name}@<a version with ${path}>`,
      `but version ${installed.version} has no file ${path}`,
    );
  }
  const type = /\.(m?js|cjs)$/.test(file) ? "application/javascript" : "application/octet-stream";
  return new Response(await readFile(file), { headers: { "Content-Type": type } });
}

function parseSpec(spec: string): { name: string; version: string; path: string } {
  const parts = spec.split("/");
  const namever = spec.startsWith("@") ? `${parts.shift()}/${parts.shift()}` : (parts.shift() ?? "");
  const at = namever.indexOf("@", 1);
  return {
    name: at > 0 ? namever.slice(0, at) : namever,
    version: at > 0 ? namever.slice(at + 1) : "",
    path: parts.join("/"),
  };
}

async function findInstalled(searchRoots: readonly string[], name: string): Promise<Installed | undefined> {
  for (const root of searchRoots) {
    for (let dir = resolve(root); ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name);
      const manifest = join(candidate, "package.json");
      if (existsSync(manifest)) {
        const pkg = JSON.parse(await readFile(manifest, "utf-8")) as { version?: unknown };
        if (typeof pkg.version === "string") return { dir: candidate, version: pkg.version, resolveDir: dir };
      }
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** Node's built-in modules: bundled for the browser as empty modules, as CDNs do. */
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * d3-dsv compiles each CSV header into a row converter with `new Function`, which a policy
 * without 'unsafe-eval' refuses. This closure builds the same object (same keys, same order,
 * missing cells as ""), without eval.
 */
const D3_DSV_CONVERTER =
  /new Function\("d", "return \{" \+ columns\.map\(function\(name, i\) \{\s*return JSON\.stringify\(name\) \+ ": d\[" \+ i \+ "\] \|\| \\"\\"";\s*\}\)\.join\(","\) \+ "\}"\)/;
const D3_DSV_REPLACEMENT =
  'function(d) { var o = {}; for (var i = 0; i < columns.length; ++i) o[columns[i]] = d[i] || ""; return o; }';

const browserPlugin: Plugin = {
  name: "lakebook-browser",
  setup(build) {
    build.onResolve({ filter: /^[a-z_:]+(\/.*)?$/ }, (args) =>
      NODE_BUILTINS.has(args.path) ? { path: args.path, namespace: "node-builtin" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "node-builtin" }, () => ({ contents: "export default {};" }));
    build.onLoad({ filter: /[\\/]d3(-dsv)?[\\/]dist[\\/][^\\/]+\.m?js$/ }, async (args) => {
      const source = await readFile(args.path, "utf-8");
      if (!D3_DSV_CONVERTER.test(source)) return undefined;
      return { contents: source.replace(D3_DSV_CONVERTER, D3_DSV_REPLACEMENT), loader: "js" };
    });
  },
};

/**
 * Overrides, by package: the file to bundle for `npm:<name>` when the package's entry is
 * CommonJS and an ES module build sits beside it. A CommonJS entry gives a bundle whose only
 * export is `default`, so `L.map` would be undefined where jsDelivr's `+esm` has it.
 */
export const ENTRY_OVERRIDES: Readonly<Record<string, string>> = {
  leaflet: "dist/leaflet-src.esm.js",
};

/** A self-contained browser ES module of `name[/subpath]`, re-exporting its namespace and default. */
async function bundle(installed: Installed, name: string, subpath: string): Promise<string> {
  const { build } = await import("esbuild");
  // A subpath the exports map hides (mermaid's dist/mermaid.esm.min.mjs) is still a file.
  const file = subpath || ENTRY_OVERRIDES[name];
  const direct = file && extname(file) && existsSync(join(installed.dir, file));
  const entry = direct ? join(installed.dir, file) : subpath ? `${name}/${subpath}` : name;
  const run = (withDefault: boolean) =>
    build({
      stdin: {
        contents: `export * from ${JSON.stringify(entry)};${withDefault ? `export {default} from ${JSON.stringify(entry)};` : ""}`,
        resolveDir: installed.resolveDir,
        loader: "js",
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: ["es2022"],
      minify: true,
      legalComments: "eof",
      banner: { js: BUNDLE_BANNER },
      define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
      plugins: [browserPlugin],
      logLevel: "silent",
    });
  try {
    let result;
    try {
      result = await run(true);
    } catch (error) {
      // A module without a default export: esbuild refuses the re-export, so leave it out.
      if (!/No matching export .* for import "default"/.test(errorText(error))) throw error;
      result = await run(false);
    }
    return result.outputFiles[0]?.text ?? "";
  } catch (error) {
    throw new BuildError(
      `cannot bundle npm:${name}${subpath ? `/${subpath}` : ""} (${installed.version}) for the browser: ` +
        `${errorText(error)}; import a file of the package that is an ES module for browsers`,
      { cause: error },
    );
  }
}

function errorText(error: unknown): string {
  const errors = (error as { errors?: { text?: string }[] }).errors;
  if (Array.isArray(errors) && errors[0]?.text) return errors[0].text;
  return error instanceof Error ? error.message : String(error);
}
