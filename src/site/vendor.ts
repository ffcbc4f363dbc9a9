/**
 * Offline npm vendoring for Observable Framework.
 *
 * Framework resolves every `npm:` import against jsDelivr and registry.npmjs.org at build time,
 * but first looks in `<root>/.observablehq/cache/_npm/<name>@<version>/`: the version of an
 * unversioned import is the highest version directory present there, and a file already present
 * is never downloaded. `vendorNpmCache` fills that cache from this project's node_modules, so a
 * build needs no network and every page loads its libraries from the site's own origin.
 *
 * Invariants:
 * - For every vendored package the cache holds exactly one version directory: the installed one.
 *   Other version directories of the same name are removed, because a stray newer one (left by
 *   an online build) would win version resolution and then be missing its files offline.
 * - A package directory appears complete or not at all: it is assembled in a temp folder and
 *   renamed into place, with a stamp written last. A matching stamp makes a rerun a no-op.
 * - `_esm.js` is a self-contained, minified browser ESM bundle (esbuild), so Framework finds no
 *   further imports to resolve; the files listed in `files` are copied byte for byte.
 *
 * To add a library for the notebooks: `npm install --save-exact <name>`, then add
 * `{ name: "<name>" }` to VENDORED_PACKAGES below.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BuildError } from "../errors.ts";
import { silentLogger, type Logger } from "../logger.ts";

/** One npm package made available to pages as `npm:<name>` (and `npm:<name>@<version>`). */
export interface VendoredPackage {
  /** The npm name, exactly as pages import it after `npm:`. */
  readonly name: string;
  /** The version pages pin (`npm:<name>@<version>`); vendoring fails if another is installed. */
  readonly version?: string;
  /** Bundle the package entry as `_esm.js` (default true); false for asset-only packages. */
  readonly bundle?: boolean;
  /** Files copied verbatim, by path inside the package (e.g. `dist/duckdb-eh.wasm`). */
  readonly files?: readonly string[];
  /** Stylesheets generated next to the package: output file name -> font CSS to inline. */
  readonly inlineFontCss?: Readonly<Record<string, readonly string[]>>;
}

/** The DuckDB-WASM version pages pin (`npm:@duckdb/duckdb-wasm@1.27.0`); Parquet is built in. */
export const DUCKDB_WASM_VERSION = "1.27.0";

/** The font stylesheet generated inside the fontsource package's cache folder. */
export const FONT_STYLESHEET = "lakebook-fonts.css";

/**
 * A version-free entry point to the generated font stylesheet, `@import`ed by
 * `notebooks/style.css` (relative to the Framework root). esbuild inlines it into the page CSS.
 */
export const FONT_ENTRY = ".observablehq/cache/_lakebook/fonts.css";

/**
 * Source Serif 4 faces the default theme uses (body 400, headings 700, UI 500/600, italics),
 * Latin subset only: inlined as data URLs, each face costs ~27 kB in the one cached stylesheet.
 * Text outside Latin falls back to the theme's next serif font.
 */
const SOURCE_SERIF_FACES = [
  "latin-400.css",
  "latin-400-italic.css",
  "latin-500.css",
  "latin-600.css",
  "latin-700.css",
  "latin-700-italic.css",
];

/** Everything Framework's client and our pages need, served from the site's own origin. */
export const VENDORED_PACKAGES: readonly VendoredPackage[] = [
  { name: "@observablehq/plot" },
  { name: "d3" },
  { name: "@observablehq/inputs" },
  // Implicit dependencies Framework adds for Inputs, and the ones its FileAttachment methods
  // import lazily (csv/tsv -> d3-dsv, arrow -> apache-arrow).
  { name: "htl" },
  { name: "isoformat" },
  { name: "d3-dsv" },
  { name: "apache-arrow" },
  {
    name: "@duckdb/duckdb-wasm",
    version: DUCKDB_WASM_VERSION,
    files: [
      "dist/duckdb-eh.wasm",
      "dist/duckdb-mvp.wasm",
      "dist/duckdb-browser-eh.worker.js",
      "dist/duckdb-browser-mvp.worker.js",
    ],
  },
  {
    name: "@fontsource/source-serif-4",
    bundle: false,
    inlineFontCss: { [FONT_STYLESHEET]: SOURCE_SERIF_FACES },
  },
];

/**
 * Libraries Framework's client bundle imports lazily (recommended libraries, sample datasets,
 * JSX) that Lakebook does not vendor. Framework still resolves a version for each while bundling
 * its client, which would query registry.npmjs.org; a placeholder version directory answers that
 * offline. A page that really imports one of them makes Framework download the file, which
 * `buildSite` reports as an unvendored import. A real version directory, when present, wins.
 */
export const UNVENDORED_CLIENT_LIBRARIES: readonly string[] = [
  "@observablehq/sample-datasets",
  "@uwdata/vgplot",
  "@viz-js/viz",
  "arquero",
  "echarts",
  "exceljs",
  "jszip",
  "katex",
  "leaflet",
  "lodash",
  "mapbox-gl",
  "mermaid",
  "parquet-wasm",
  "react",
  "react-dom",
  "sql.js",
  "topojson-client",
  "vega",
  "vega-lite",
  "vega-lite-api",
];

/** The version placeholders carry: a prerelease, so it never satisfies a real range. */
export const PLACEHOLDER_VERSION = "0.0.0-lakebook-unvendored";

export interface VendorOptions {
  /** Where node_modules is looked up (Node resolution, walking up); default: Lakebook's own root. */
  readonly projectRoot?: string;
  readonly packages?: readonly VendoredPackage[];
  /** Rebuild even when the stamp says the cache is current. */
  readonly force?: boolean;
  readonly logger?: Logger;
}

/** What `vendorNpmCache` did, per package. */
export interface VendorResult {
  readonly cacheDir: string;
  readonly packages: readonly { name: string; version: string; status: "fresh" | "built" }[];
}

const STAMP_FILE = ".lakebook-vendor.json";
const STAMP_FORMAT = 1;
const LAKEBOOK_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Fills `<root>/.observablehq/cache/_npm/` from node_modules; see the module doc. */
export async function vendorNpmCache(root: string, options: VendorOptions = {}): Promise<VendorResult> {
  const { projectRoot = LAKEBOOK_ROOT, packages = VENDORED_PACKAGES, force = false } = options;
  const logger = options.logger ?? silentLogger;
  const cacheDir = join(resolve(root), ".observablehq", "cache", "_npm");
  // Per call, so concurrent vendoring of one root (CLI and server) never clears the other's work.
  const tmpRoot = join(
    resolve(root),
    ".observablehq",
    "cache",
    ".lakebook-tmp",
    randomBytes(4).toString("hex"),
  );
  const results: { name: string; version: string; status: "fresh" | "built" }[] = [];
  for (const spec of packages) {
    const packageDir = findPackageDir(projectRoot, spec.name);
    const version = await readInstalledVersion(packageDir, spec.name);
    if (spec.version !== undefined && spec.version !== version) {
      throw new BuildError(
        `npm package '${spec.name}' is installed at ${version} but pages pin ${spec.version}: run ` +
          `'npm install --save-exact ${spec.name}@${spec.version}', or move the pin (pages and src/site/vendor.ts) together`,
      );
    }
    const targetDir = join(cacheDir, `${spec.name}@${version}`);
    await removeOtherVersions(cacheDir, spec.name, version);
    const stamp = JSON.stringify({ format: STAMP_FORMAT, ...spec, version });
    if (!force && (await readStamp(targetDir)) === stamp) {
      results.push({ name: spec.name, version, status: "fresh" });
      continue;
    }
    const started = performance.now();
    const workDir = join(tmpRoot, `${spec.name.replace("/", "+")}-${randomBytes(4).toString("hex")}`);
    try {
      await mkdir(workDir, { recursive: true });
      if (spec.bundle !== false) await bundlePackage(projectRoot, spec.name, join(workDir, "_esm.js"));
      for (const file of spec.files ?? []) await copyPackageFile(packageDir, spec.name, file, workDir);
      for (const [output, faces] of Object.entries(spec.inlineFontCss ?? {})) {
        await writeFile(join(workDir, output), await inlineFontCss(packageDir, spec.name, faces));
      }
      await writeFile(join(workDir, STAMP_FILE), stamp);
      await rm(targetDir, { recursive: true, force: true });
      await mkdir(dirname(targetDir), { recursive: true });
      await rename(workDir, targetDir).catch(async (error: unknown) => {
        // Another process vendoring the same root got there first; its result is as good.
        if ((await readStamp(targetDir)) !== stamp) throw error;
      });
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    const ms = Math.round(performance.now() - started);
    logger.info({ package: spec.name, version, ms }, "vendored npm package for offline builds");
    results.push({ name: spec.name, version, status: "built" });
  }
  await rm(tmpRoot, { recursive: true, force: true });
  await writeFontEntry(resolve(root), cacheDir, packages, results);
  for (const name of UNVENDORED_CLIENT_LIBRARIES) {
    if (packages.some((p) => p.name === name)) continue;
    if ((await listVersions(cacheDir, name)).length > 0) continue;
    const placeholder = join(cacheDir, `${name}@${PLACEHOLDER_VERSION}`);
    await mkdir(placeholder, { recursive: true });
    await writeFile(
      join(placeholder, STAMP_FILE),
      JSON.stringify({ format: STAMP_FORMAT, name, placeholder: true }),
    );
  }
  return { cacheDir, packages: results };
}

async function writeFontEntry(
  root: string,
  cacheDir: string,
  packages: readonly VendoredPackage[],
  results: readonly { name: string; version: string }[],
): Promise<void> {
  const fonts = packages.find((p) => p.inlineFontCss?.[FONT_STYLESHEET]);
  const version = results.find((r) => r.name === fonts?.name)?.version;
  if (!fonts || !version) return;
  const entry = join(root, FONT_ENTRY);
  const target = relative(dirname(entry), join(cacheDir, `${fonts.name}@${version}`, FONT_STYLESHEET));
  const contents = `@import url(${JSON.stringify(target.split("\\").join("/"))});\n`;
  if ((await readFile(entry, "utf-8").catch(() => undefined)) === contents) return;
  await mkdir(dirname(entry), { recursive: true });
  await writeFile(`${entry}.tmp`, contents);
  await rename(`${entry}.tmp`, entry);
}

/** Node-style lookup of `node_modules/<name>`, walking up from `projectRoot`. */
function findPackageDir(projectRoot: string, name: string): string {
  for (let dir = resolve(projectRoot); ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new BuildError(
    `cannot vendor npm package '${name}': it is not installed under ${projectRoot}; ` +
      `run 'npm install --save-exact ${name}' or remove it from VENDORED_PACKAGES in src/site/vendor.ts`,
  );
}

async function readInstalledVersion(packageDir: string, name: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(packageDir, "package.json"), "utf-8")) as { version?: unknown };
  if (typeof pkg.version !== "string" || !/^\d+\.\d+\.\d+/.test(pkg.version)) {
    throw new BuildError(
      `npm package '${name}' in ${packageDir} has no valid version; reinstall it with npm`,
    );
  }
  return pkg.version;
}

async function readStamp(dir: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, STAMP_FILE), "utf-8");
  } catch {
    return undefined;
  }
}

/** The version directories `<name>@<version>` present in the cache. */
async function listVersions(cacheDir: string, name: string): Promise<string[]> {
  const scope = name.startsWith("@") ? name.slice(0, name.indexOf("/")) : undefined;
  const parent = scope ? join(cacheDir, scope) : cacheDir;
  const base = scope ? name.slice(scope.length + 1) : name;
  try {
    const entries = await readdir(parent);
    return entries.filter((e) => e.startsWith(`${base}@`)).map((e) => e.slice(base.length + 1));
  } catch {
    return [];
  }
}

/** Removes `<name>@<other version>` directories so version resolution finds only ours. */
async function removeOtherVersions(cacheDir: string, name: string, version: string): Promise<void> {
  for (const other of await listVersions(cacheDir, name)) {
    if (other !== version) await rm(join(cacheDir, `${name}@${other}`), { recursive: true, force: true });
  }
}

async function bundlePackage(projectRoot: string, name: string, outfile: string): Promise<void> {
  const { build } = await import("esbuild");
  const bundle = (withDefault: boolean) =>
    build({
      stdin: {
        // Re-export the namespace and the default export, as jsDelivr's +esm does.
        contents: `export * from ${JSON.stringify(name)};${withDefault ? `export {default} from ${JSON.stringify(name)};` : ""}`,
        resolveDir: projectRoot,
        loader: "js",
      },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022"],
      minify: true,
      legalComments: "eof",
      define: { "process.env.NODE_ENV": '"production"' },
      outfile,
      logLevel: "silent",
    });
  try {
    try {
      await bundle(true);
    } catch (error) {
      // A package without a default export: esbuild refuses the re-export, so leave it out.
      if (!/No matching export .* for import "default"/.test(errorText(error))) throw error;
      await bundle(false);
    }
  } catch (error) {
    throw new BuildError(
      `cannot bundle npm package '${name}' for the browser: ${errorText(error)}; ` +
        `check that it ships an ES module entry, or remove it from VENDORED_PACKAGES in src/site/vendor.ts`,
      { cause: error },
    );
  }
}

async function copyPackageFile(
  packageDir: string,
  name: string,
  file: string,
  workDir: string,
): Promise<void> {
  const source = join(packageDir, file);
  if (!existsSync(source)) {
    throw new BuildError(
      `npm package '${name}' has no file '${file}'; check the installed version or fix 'files' in src/site/vendor.ts`,
    );
  }
  await mkdir(dirname(join(workDir, file)), { recursive: true });
  await copyFile(source, join(workDir, file));
}

/**
 * Concatenates fontsource face stylesheets with their woff2 files inlined as data URLs. Framework
 * copies an `npm:` stylesheet but not the files its `url()`s point at, so the fonts must travel
 * inside it; the woff fallbacks are dropped (every supported browser reads woff2).
 */
async function inlineFontCss(packageDir: string, name: string, faces: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const face of faces) {
    const cssPath = join(packageDir, face);
    if (!existsSync(cssPath)) {
      throw new BuildError(
        `font package '${name}' has no '${face}'; fix the face list in src/site/vendor.ts`,
      );
    }
    const css = await readFile(cssPath, "utf-8");
    const srcPattern =
      /src:\s*url\((?:'|")?(\.\/files\/[^)'"]+\.woff2)(?:'|")?\)\s*format\(['"]woff2['"]\)[^;]*;/g;
    let replaced = 0;
    const inlined = await replaceAsync(css, srcPattern, async (_match, file: string) => {
      replaced++;
      const data = await readFile(join(dirname(cssPath), file));
      return `src: url(data:font/woff2;base64,${data.toString("base64")}) format("woff2");`;
    });
    if (replaced === 0) {
      throw new BuildError(`font stylesheet '${face}' of '${name}' has no woff2 source to inline`);
    }
    parts.push(inlined.trim());
  }
  return parts.join("\n") + "\n";
}

async function replaceAsync(
  input: string,
  pattern: RegExp,
  replace: (match: string, group: string) => Promise<string>,
): Promise<string> {
  const replacements = await Promise.all(
    Array.from(input.matchAll(pattern), (m) => replace(m[0], m[1] ?? "")),
  );
  let i = 0;
  return input.replace(pattern, () => replacements[i++] ?? "");
}

function errorText(error: unknown): string {
  const errors = (error as { errors?: { text?: string }[] }).errors;
  if (Array.isArray(errors) && errors[0]?.text) return errors[0].text;
  return error instanceof Error ? error.message : String(error);
}
