/**
 * In-memory copies of the pages (HTML) of published builds, with their validators and
 * Content-Security-Policy, so a page view costs no file system round trip beyond resolving
 * `current`. Only folders named like a publish build id (`builds/<20261125T191900123Z-1a2b3c>`)
 * are cached: publish.ts never changes such a folder after it became live, so an entry can never
 * be stale. Entries of other builds are dropped when `current` moves; memory is bounded.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StampTransform } from "./buildStamp.ts";
import { PAGE_SECURITY_HEADERS } from "./middlewares/securityHeaders.ts";

const PUBLISHED_BUILD = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;
/** Requests the cache does not answer: ranges and preconditions go through sendStaticFile. */
const UNCACHED_HEADERS = ["range", "if-range", "if-match", "if-unmodified-since"];

export interface CachedPage {
  readonly content: Buffer;
  readonly etag: string;
  readonly mtimeSeconds: number;
  /** `mtimeSeconds` as an HTTP date, for Last-Modified. */
  readonly lastModified: string;
  readonly policy: string;
}

export interface PageCache {
  /** True when the request may be answered from memory (published build, plain GET or HEAD). */
  usable(req: IncomingMessage, build: string): boolean;
  get(build: string, key: string): CachedPage | undefined;
  /** Reads `realPath` and remembers it under `key`. */
  load(
    build: string,
    key: string,
    realPath: string,
    policyOf: (content: Buffer, realPath: string, etag: string) => string,
  ): Promise<CachedPage>;
}

export function createPageCache(maxBytes = 64 * 1024 * 1024): PageCache {
  let cachedBuild: string | undefined;
  let bytes = 0;
  const pages = new Map<string, CachedPage>();
  return {
    usable(req, build) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      if (build !== cachedBuild && !PUBLISHED_BUILD.test(basename(build))) return false;
      return UNCACHED_HEADERS.every((name) => req.headers[name] === undefined);
    },
    get(build, key) {
      return build === cachedBuild ? pages.get(key) : undefined;
    },
    async load(build, key, realPath, policyOf) {
      const [content, stats] = await Promise.all([readFile(realPath), stat(realPath, { bigint: true })]);
      const etag = `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
      const mtimeSeconds = Math.floor(Number(stats.mtimeMs) / 1000);
      const page: CachedPage = {
        content,
        etag,
        mtimeSeconds,
        lastModified: new Date(mtimeSeconds * 1000).toUTCString(),
        policy: policyOf(content, realPath, etag),
      };
      if (build !== cachedBuild) {
        pages.clear();
        bytes = 0;
        cachedBuild = build;
      }
      if (bytes + content.length <= maxBytes) {
        pages.set(key, page);
        bytes += content.length;
      }
      return page;
    },
  };
}

/** A page as sent with one stamp: body, validator and complete header lists, made once. */
interface PreparedPage {
  readonly tag: string | undefined;
  readonly body: Buffer;
  readonly etag: string;
  /** Flat name, value lists for `writeHead`, security headers included. */
  readonly ok: readonly string[];
  readonly notModified: readonly string[];
}

/** Per page, its prepared forms by transform tag (one per stamp and kind of reader, readerView.ts). */
const preparedPages = new WeakMap<CachedPage, Map<string | undefined, PreparedPage>>();

/** The page as sent with `stamp`, made once per page and stamp rather than per request. */
function prepared(page: CachedPage, stamp: StampTransform | undefined): PreparedPage {
  let forms = preparedPages.get(page);
  const known = forms?.get(stamp?.tag);
  if (known) return known;
  const body = stamp ? stamp.apply(page.content) : page.content;
  const etag = stamp ? `${page.etag.slice(0, -1)}-${stamp.tag}"` : page.etag;
  const validators = [
    ...PAGE_SECURITY_HEADERS,
    "ETag",
    etag,
    "Last-Modified",
    page.lastModified,
    "Cache-Control",
    "no-cache",
    // A browser updates its cached copy's headers from a 304: the page keeps its own policy.
    "Content-Security-Policy",
    page.policy,
  ];
  const made: PreparedPage = {
    tag: stamp?.tag,
    body,
    etag,
    notModified: validators,
    ok: [
      ...validators,
      "Content-Type",
      "text/html; charset=utf-8",
      "Accept-Ranges",
      "bytes",
      "Content-Length",
      String(body.length),
    ],
  };
  if (!forms || forms.size >= 256) {
    forms = new Map();
    preparedPages.set(page, forms);
  }
  forms.set(stamp?.tag, made);
  return made;
}

/**
 * Answers a page from memory: 200 (or 304 for a matching validator), HEAD without a body, with
 * the security headers. The headers go out in one `writeHead`; a header set earlier on `res`
 * (the request id, on the Express path) is kept unless this function sets the same name.
 */
export function sendCachedPage(
  req: IncomingMessage,
  res: ServerResponse,
  page: CachedPage,
  stamp: StampTransform | undefined,
  requestId?: string,
): void {
  const { body, etag, ok, notModified } = prepared(page, stamp);
  const ifNoneMatch = req.headers["if-none-match"];
  const since = Date.parse(req.headers["if-modified-since"] ?? "");
  const isNotModified =
    ifNoneMatch !== undefined
      ? ifNoneMatch.trim() === "*" ||
        ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)
      : !Number.isNaN(since) && page.mtimeSeconds <= Math.floor(since / 1000);
  // Node only reads the list (and a shared one spares a copy per request).
  const headers = (isNotModified ? notModified : ok) as string[];
  res.writeHead(isNotModified ? 304 : 200, requestId ? headers.concat("X-Request-Id", requestId) : headers);
  res.end(isNotModified || req.method === "HEAD" ? undefined : body);
}
