/**
 * Content-Security-Policy for the published pages.
 *
 * Framework's built pages carry inline scripts (a `<script type="module">` defining the cells and
 * a classic sidebar script), so `script-src 'self'` alone would break every page. Instead of
 * `'unsafe-inline'`, each page is sent with the SHA-256 hashes of its own inline scripts: only
 * scripts that were in the build run. Other directives follow what the pages need:
 * - `'wasm-unsafe-eval'`: DuckDB-WASM (and parquet-wasm) compile WebAssembly;
 * - `worker-src blob:`: DuckDB-WASM starts its worker from a blob URL that imports the bundle;
 * - `style-src 'unsafe-inline'`: Plot and Inputs insert `<style>` elements and style attributes;
 * - `img-src data: blob:`: charts and downloads rendered client-side.
 * - `script-src-attr 'unsafe-hashes'` with the hashes of htl's placeholders only: htl (Inputs,
 *   `html`) parses templates with `onclick="::0"`-style placeholder attributes before swapping in
 *   the real listener as a property; without these hashes every such element logs a violation.
 *   The placeholders are not valid JavaScript, so allowing them allows no code; any other inline
 *   handler stays blocked.
 * - no `'unsafe-eval'`, except on pages that load a library that compiles code at run time
 *   (EVAL_LIBRARIES: Vega, behind Framework's `vl`, turns every expression of a spec into a
 *   `Function`). The other libraries Framework pages load do without: d3-dsv's row converter,
 *   used by every `FileAttachment.csv()`/`tsv()`, `d3.csv` and `autoType`, does it with
 *   `new Function` too, and Lakebook bundles it with an equivalent closure (src/site/localNpm.ts).
 * External origins are not allowed: pages must work offline, so anything from a CDN (e.g. the
 * Google Fonts stylesheet Framework's default theme links) is blocked and falls back to local fonts.
 */
import { createHash } from "node:crypto";

const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const HAS_SRC = /(?:^|\s)src\s*=/i;

/**
 * Libraries that need `'unsafe-eval'`, recognized by the path Framework gives their files in a
 * page's module preloads (`_npm/<name>@<version>/...`).
 */
const EVAL_LIBRARIES = /(?:^|[/"'])_npm\/vega@\d/;

/** True when the page loads a library that only works with `'unsafe-eval'` (EVAL_LIBRARIES). */
export function needsEval(html: string): boolean {
  return EVAL_LIBRARIES.test(html);
}

/** The `'sha256-...'` sources for every inline script of an HTML document. */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const match of html.matchAll(INLINE_SCRIPT)) {
    if (HAS_SRC.test(match[1] ?? "")) continue;
    // Browsers hash the script text after the HTML parser normalized newlines to LF.
    const text = (match[2] ?? "").replace(/\r\n?/g, "\n");
    hashes.add(`'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`);
  }
  return [...hashes];
}

/** How many htl placeholder indices (`::0` ... ) are allowed as inline handler text. */
const HTL_PLACEHOLDERS = 32;
const HTL_PLACEHOLDER_HASHES = Array.from(
  { length: HTL_PLACEHOLDERS },
  (_, i) => `'sha256-${createHash("sha256").update(`::${i}`, "utf8").digest("base64")}'`,
);

/** The policy for one page, given its inline script hashes and whether it needs eval. */
export function pagePolicy(scriptHashes: readonly string[], options: { evaluates?: boolean } = {}): string {
  const evaluates = options.evaluates ? ["'unsafe-eval'"] : [];
  return [
    "default-src 'self'",
    ["script-src 'self' 'wasm-unsafe-eval'", ...evaluates, ...scriptHashes].join(" "),
    ["script-src-attr 'unsafe-hashes'", ...HTL_PLACEHOLDER_HASHES].join(" "),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join("; ");
}

/** For responses that are never meant to run as a document (lake data, error bodies). */
export const NO_CONTENT_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox";

/**
 * Computes page policies, remembering them per file version: a published build is immutable, so
 * the cache key (real path + ETag) only changes when the build does.
 */
export function createPagePolicyCache(
  maxEntries = 1000,
): (html: Buffer, realPath: string, etag: string) => string {
  const cache = new Map<string, string>();
  return (html, realPath, etag) => {
    const key = `${realPath}\0${etag}`;
    let policy = cache.get(key);
    if (policy === undefined) {
      const text = html.toString("utf8");
      policy = pagePolicy(inlineScriptHashes(text), { evaluates: needsEval(text) });
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, policy);
    }
    return policy;
  };
}
