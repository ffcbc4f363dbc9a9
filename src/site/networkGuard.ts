/**
 * Keeps a Framework build offline and turns its download attempts into local answers or
 * instructions.
 *
 * Framework fetches with the global `fetch`: jsDelivr for an `npm:` file missing from its cache,
 * registry.npmjs.org for a version it cannot resolve from the cache, extensions.duckdb.org for
 * DuckDB extensions. While the guard is installed, npm requests are answered from node_modules
 * (localNpm.ts) and every other download host gets an error instead of the network, so a build
 * that would only work online fails the same way everywhere. What could not be answered is
 * recorded, so the build can say which import to install. Requests to other hosts (the rest of
 * a long-running process) pass through untouched.
 */
import { MissingPackageError, type LocalNpm } from "./localNpm.ts";

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
  /** Why it could not be answered locally, when known (a missing npm package). */
  readonly reason?: string;
}

export interface NetworkGuard {
  readonly blocked: readonly BlockedRequest[];
  release(): void;
}

/**
 * Installs the guard on `globalThis.fetch`; `step()` tells which build step is running, `npm`
 * answers npm requests from node_modules (without it they are refused too).
 */
export function guardFrameworkDownloads(step: () => string, npm?: LocalNpm): NetworkGuard {
  const original = globalThis.fetch;
  const blocked: BlockedRequest[] = [];
  const guarded: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return original(input, init);
    }
    if (!FRAMEWORK_DOWNLOAD_HOSTS.includes(parsed.hostname)) return original(input, init);
    let reason: string | undefined;
    try {
      const answer = await npm?.respond(parsed);
      if (answer) return answer;
    } catch (error) {
      if (!(error instanceof MissingPackageError)) throw error;
      reason = error.message;
    }
    blocked.push({ url, during: step(), ...(reason !== undefined && { reason }) });
    const error = new Error(reason ?? `offline build: refused to download ${url}`);
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
export function explainBlockedRequest({ url, during, reason }: BlockedRequest): string {
  const where = describeStep(during);
  if (reason) return `${where} ${reason}`;
  const parsed = new URL(url);
  if (parsed.hostname.endsWith("extensions.duckdb.org")) {
    return (
      `${where} makes Framework download a DuckDB extension from ${url}, which needs the network: ` +
      `remove it from the config's duckdb.extensions (Parquet is built into the DuckDB-WASM Lakebook ` +
      `serves), or self-host the extension file in .observablehq/cache/_duckdb/ (see "DuckDB in the ` +
      `browser" in Lakebook's README)`
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
