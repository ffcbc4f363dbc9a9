/**
 * Prepares a Framework root's cache (`<root>/.observablehq/cache/`) for an offline build or
 * preview. Libraries are no longer listed here: Framework discovers what pages import and
 * localNpm.ts answers each request from node_modules. Two things remain:
 *
 * - `prepareNpmCache` removes `_npm/<name>@<version>/` folders that would give a page the wrong
 *   files: a version other than the installed one (an unversioned import takes the highest
 *   version in the cache, and a folder left by an online build may lack files offline), the
 *   placeholder version of a package that was not installed then, and a bundle from jsDelivr or
 *   an older Lakebook (e.g. d3-dsv without the eval-free converter). Framework fetches them again, from node_modules. Packages that are not installed
 *   keep their folders: a cache filled online still serves them.
 * - `writeFontStylesheet` writes the self-hosted fonts of Framework's themes (fonts.ts).
 */
import { existsSync } from "node:fs";
import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { substitutesDuckDB } from "./duckdbWasm.ts";
import { BUNDLE_BANNER, MISSING_VERSION, type LocalNpm } from "./localNpm.ts";

/** The DuckDB-WASM version Lakebook's explorer pins (`npm:@duckdb/duckdb-wasm@1.27.0`). */
export const DUCKDB_WASM_VERSION = "1.27.0";

/** Placeholder versions written by Lakebook, now and before (never real releases). */
const PLACEHOLDERS = new Set([MISSING_VERSION, "0.0.0-lakebook-unvendored"]);

/** Removes stale `_npm` version folders under `root`'s cache; returns the ones removed. */
export async function prepareNpmCache(root: string, npm: LocalNpm): Promise<string[]> {
  const cacheDir = join(root, ".observablehq", "cache", "_npm");
  const removed: string[] = [];
  for (const entry of await listVersionDirs(cacheDir)) {
    const at = entry.indexOf("@", 1);
    const name = entry.slice(0, at);
    const version = entry.slice(at + 1);
    const installed = await npm.installedVersion(name);
    const stale =
      PLACEHOLDERS.has(version) ||
      (installed !== undefined && installed !== version && !substitutesDuckDB(name, version, installed)) ||
      (installed !== undefined && (await isForeignBundle(join(cacheDir, entry))));
    if (!stale) continue;
    await rm(join(cacheDir, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

/** `name@version` and `@scope/name@version` folders in the cache. */
async function listVersionDirs(cacheDir: string): Promise<string[]> {
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith("@") && !entry.includes("@", 1)) {
      const scoped = await readdir(join(cacheDir, entry)).catch(() => [] as string[]);
      dirs.push(...scoped.filter((s) => s.includes("@", 1)).map((s) => `${entry}/${s}`));
    } else if (entry.includes("@", 1)) dirs.push(entry);
  }
  return dirs;
}

/** Signatures of `_esm.js` files that must be rebuilt from node_modules. */
const JSDELIVR_BANNER = "/**\n * Bundled by jsDelivr";
const LAKEBOOK_BANNER_PREFIX = "/* lakebook bundle ";
/** The stamp file of the vendoring Lakebook did before (a fixed package list). */
const OLD_VENDOR_STAMP = ".lakebook-vendor.json";

/**
 * True when the folder's `_esm.js` came from jsDelivr (an online build), from an older Lakebook
 * (its vendor stamp, or another bundle format): it may need eval or miss a patch. Files Framework
 * wrote from a raw file (sql.js) and current bundles are kept.
 */
async function isForeignBundle(dir: string): Promise<boolean> {
  if (existsSync(join(dir, OLD_VENDOR_STAMP))) return true;
  const path = join(dir, "_esm.js");
  if (!existsSync(path)) return false;
  const file = await open(path);
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const text = head.subarray(0, bytesRead).toString("utf-8");
    if (text.startsWith(JSDELIVR_BANNER)) return true;
    return text.startsWith(LAKEBOOK_BANNER_PREFIX) && !text.startsWith(BUNDLE_BANNER);
  } finally {
    await file.close();
  }
}
