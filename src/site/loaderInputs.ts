/**
 * What a data loader's output depends on besides the data it reads: its own file, the local
 * modules it imports (followed transitively, including this project's own package when imported
 * by name), the versions of the npm packages it imports, and its declared maximum age.
 *
 * Imports are found by scanning the source text, not by running it: static `import … from`,
 * `export … from`, bare `import "x"` and `import("x")` with a literal. A module built from a
 * computed specifier is not seen; `lakebook build --refresh <loader>` covers that case.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { BuildError } from "../errors.ts";

/** Content hashes keyed by path relative to the project root (`npm:<name>` for packages). */
export type InputHashes = Readonly<Record<string, string>>;

const IMPORT_PATTERN =
  /(?:^|[^.\w$])(?:import|export)\s*(?:type\s+)?[^"'`;]*?\bfrom\s*["']([^"'\n]+)["']|(?:^|[^.\w$])import\s*\(\s*["']([^"'\n]+)["']\s*\)|(?:^|[^.\w$])import\s+["']([^"'\n]+)["']/gm;
const SCRIPT_EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".tsx", ".jsx"];

/** Hashes of the loader file and everything local it imports, keyed by project-relative path. */
export function loaderInputHashes(loaderFile: string, projectRoot: string): InputHashes {
  const hashes: Record<string, string> = {};
  const pending = [resolve(loaderFile)];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const content = readFileSync(file);
    hashes[relative(projectRoot, file)] = createHash("sha256").update(content).digest("hex");
    if (!SCRIPT_EXTENSIONS.some((extension) => file.endsWith(extension))) continue;
    for (const specifier of importSpecifiers(content.toString("utf8"))) {
      const target = resolveImport(specifier, file, projectRoot);
      if (target.kind === "file") pending.push(target.path);
      else if (target.kind === "package") hashes[`npm:${target.name}`] = target.version;
    }
  }
  return hashes;
}

export function importSpecifiers(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(IMPORT_PATTERN)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier) found.add(specifier);
  }
  return [...found];
}

type ResolvedImport =
  { kind: "file"; path: string } | { kind: "package"; name: string; version: string } | { kind: "builtin" };

function resolveImport(specifier: string, from: string, projectRoot: string): ResolvedImport {
  if (specifier.startsWith("node:")) return { kind: "builtin" };
  if (specifier.startsWith(".") || specifier.startsWith("/")) {
    const path = resolveFile(resolve(dirname(from), specifier));
    return path ? { kind: "file", path } : { kind: "builtin" };
  }
  const name = specifier.startsWith("@")
    ? specifier.split("/").slice(0, 2).join("/")
    : specifier.split("/")[0]!;
  const own = ownPackageEntry(name, specifier, projectRoot);
  if (own) return { kind: "file", path: own };
  const manifest = join(projectRoot, "node_modules", name, "package.json");
  if (!existsSync(manifest)) return { kind: "builtin" }; // a Node built-in without `node:`
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version?: string };
  return { kind: "package", name, version: version ?? "unknown" };
}

/** A file, or the same name with a script extension or as a folder's index. */
function resolveFile(path: string): string | undefined {
  const candidates = [
    path,
    ...SCRIPT_EXTENSIONS.map((extension) => path + extension),
    ...SCRIPT_EXTENSIONS.map((extension) => join(path, `index${extension}`)),
  ];
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

/** The project importing its own package by name (`import … from "lakebook"`): its source file. */
function ownPackageEntry(name: string, specifier: string, projectRoot: string): string | undefined {
  const manifestPath = join(projectRoot, "package.json");
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    name?: string;
    exports?: unknown;
  };
  if (manifest.name !== name) return undefined;
  const subpath = "." + specifier.slice(name.length);
  const entry = exportTarget(manifest.exports, subpath);
  return entry ? resolveFile(join(projectRoot, entry)) : undefined;
}

function exportTarget(exports: unknown, subpath: string): string | undefined {
  if (typeof exports === "string") return subpath === "." ? exports : undefined;
  if (!exports || typeof exports !== "object") return undefined;
  const map = exports as Record<string, unknown>;
  const entry = Object.keys(map).some((key) => key.startsWith("."))
    ? map[subpath]
    : subpath === "."
      ? map
      : undefined;
  if (typeof entry === "string") return entry;
  if (entry && typeof entry === "object") {
    const conditions = entry as Record<string, unknown>;
    for (const condition of ["import", "node", "default"]) {
      const value = conditions[condition];
      if (typeof value === "string") return value;
    }
  }
  return undefined;
}

const AGE_PATTERN = /\bmaxAge\s*[:=]\s*["'`]?(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\b/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The loader's declared maximum age in ms: `export const maxAge = "1h"` in a JavaScript or
 * TypeScript loader, a `# maxAge: 30m` comment in any other (units ms, s, m, h, d); undefined
 * when it declares none.
 */
export function declaredMaxAge(loaderFile: string): number | undefined {
  const source = readFileSync(loaderFile, "utf8");
  const match = AGE_PATTERN.exec(source);
  if (!match) {
    if (/\bmaxAge\s*[:=]/.test(source)) {
      throw new BuildError(
        `${loaderFile}: maxAge must be a duration such as "30m", "1h" or "2d" (units ms, s, m, h, d)`,
      );
    }
    return undefined;
  }
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** `3600000` -> `1h`, for the reasons a build prints. */
export function formatAge(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
