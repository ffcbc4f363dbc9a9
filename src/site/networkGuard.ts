/**
 * Keeps a Framework build offline and turns its download attempts into instructions.
 *
 * Framework fetches with the global `fetch`: jsDelivr for an `npm:` file missing from the cache,
 * registry.npmjs.org for a version it cannot resolve from the cache, extensions.duckdb.org for
 * DuckDB extensions. While a build runs, the guard answers those hosts with an error instead of
 * the network, so a build that would only work online fails the same way everywhere, and
 * records what was asked for, so `buildSite` can say which import to vendor. Requests to other
 * hosts (the rest of a long-running process) pass through untouched.
 */
import { PLACEHOLDER_VERSION, UNVENDORED_CLIENT_LIBRARIES, VENDORED_PACKAGES } from "./vendor.ts";

/** Hosts Framework downloads from at build time. */
export const FRAMEWORK_DOWNLOAD_HOSTS: readonly string[] = [
  "cdn.jsdelivr.net",
  "registry.npmjs.org",
  "npm.jsr.io",
  "jsr.io",
  "extensions.duckdb.org",
  "community-extensions.duckdb.org",
];

/** A download the build attempted, and during which step (`load /explore`, `bundle …`). */
export interface BlockedRequest {
  readonly url: string;
  readonly during: string;
}

export interface NetworkGuard {
  readonly blocked: readonly BlockedRequest[];
  release(): void;
}

/** Installs the guard on `globalThis.fetch`; `step()` tells which build step is running. */
export function guardFrameworkDownloads(step: () => string): NetworkGuard {
  const original = globalThis.fetch;
  const blocked: BlockedRequest[] = [];
  const guarded: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      return original(input, init);
    }
    if (!FRAMEWORK_DOWNLOAD_HOSTS.includes(host)) return original(input, init);
    const request = { url, during: step() };
    blocked.push(request);
    const error = new Error(`offline build: refused to download ${url}`);
    // Framework also prints the error it gets; one line says all there is to say.
    error.stack = `Error: ${error.message}`;
    throw error;
  };
  globalThis.fetch = guarded;
  return {
    blocked,
    release() {
      if (globalThis.fetch === guarded) globalThis.fetch = original;
    },
  };
}

/** What a blocked download means for the author of a page, and what to do about it. */
export function explainBlockedRequest(
  { url, during }: BlockedRequest,
  vendored: readonly string[] = VENDORED_PACKAGES.map((p) => p.name),
): string {
  const where = describeStep(during);
  const parsed = new URL(url);
  if (parsed.hostname === "cdn.jsdelivr.net" && parsed.pathname.startsWith("/npm/")) {
    const { name, version, path } = parseNpmPath(parsed.pathname.slice("/npm/".length));
    const specifier = `npm:${name}${path && path !== "+esm" ? `/${path}` : ""}`;
    if (name === "@duckdb/duckdb-wasm" && version !== "1.27.0") {
      return (
        `${where} needs ${specifier}@${version}, which is not vendored (Framework downloads it from ${url}). ` +
        `Framework's \`sql\` front matter, DuckDBClient and an unversioned npm:@duckdb/duckdb-wasm use ` +
        `DuckDB-WASM ${version}, which loads its Parquet reader from extensions.duckdb.org: instead use ` +
        `\`import {openDuckDB, registerParquetUrl} from "./components/duckdb.js"\` (DuckDB-WASM 1.27.0, ` +
        `Parquet built in), or import npm:@duckdb/duckdb-wasm@1.27.0 explicitly`
      );
    }
    const implicit = version === PLACEHOLDER_VERSION || UNVENDORED_CLIENT_LIBRARIES.includes(name);
    return (
      `${where} imports ${specifier}${implicit ? " (perhaps implicitly, through a Framework built-in such as `_`, `aq`, `L` or a sample dataset)" : ""}, ` +
      `which is not vendored for offline builds (Framework would download ${url}). ` +
      `Run \`npm install --save-exact ${name}\` and add { name: "${name}"${path && path !== "+esm" ? `, files: ["${path}"]` : ""} } ` +
      `to VENDORED_PACKAGES in src/site/vendor.ts, or remove the import`
    );
  }
  if (parsed.hostname === "registry.npmjs.org") {
    const segments = decodeURIComponent(parsed.pathname.slice(1)).split("/");
    const name = segments[0]?.startsWith("@") ? segments.slice(0, 2).join("/") : (segments[0] ?? "");
    if (!vendored.includes(name)) {
      return (
        `${where} imports npm:${name}, which is not vendored for offline builds (Framework would ask ${url}). ` +
        `Run \`npm install --save-exact ${name}\` and add { name: "${name}" } to VENDORED_PACKAGES in ` +
        `src/site/vendor.ts, or remove the import`
      );
    }
    return (
      `${where} imports npm:${name} in a version that is not vendored (Framework would ask ${url} which ` +
      `versions exist). Import it without a version (\`npm:${name}\`) to get the vendored one, or run ` +
      `\`npm install --save-exact ${name}@<version>\` and add { name: "${name}" } to VENDORED_PACKAGES in ` +
      `src/site/vendor.ts`
    );
  }
  if (parsed.hostname.endsWith("extensions.duckdb.org")) {
    return (
      `${where} makes Framework download a DuckDB extension from ${url}: Framework's \`sql\` and DuckDBClient ` +
      `need network access. Use openDuckDB() from ./components/duckdb.js instead (Parquet built in), or ` +
      `see the duckdb note in observablehq.config.ts to self-host extension files`
    );
  }
  return `${where} makes Framework download ${url}; Lakebook builds run offline: vendor the file or remove the import`;
}

function describeStep(during: string): string {
  const load = /^load\s+(\S+)/.exec(during);
  if (load) return `page ${load[1]}`;
  if (during) return `the build step "${during.trim()}"`;
  return "the build";
}

function parseNpmPath(spec: string): { name: string; version: string; path: string } {
  const parts = spec.split("/");
  const namever = spec.startsWith("@") ? `${parts.shift()}/${parts.shift()}` : (parts.shift() ?? "");
  const at = namever.indexOf("@", 1);
  return {
    name: at > 0 ? namever.slice(0, at) : namever,
    version: at > 0 ? namever.slice(at + 1) : "",
    path: parts.join("/"),
  };
}
