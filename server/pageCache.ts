/**
 * In-memory copies of the pages (HTML) of published builds, with their validators and
 * Content-Security-Policy, so a page view costs no file system round trip beyond resolving
 * `current`. Only folders named like a publish build id (`builds/<20261125T191900123Z-1a2b3c>`)
 * are cached: publish.ts never changes such a folder after it became live, so an entry can never
 * be stale. Entries of other builds are dropped when `current` moves; memory is bounded.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Request, Response } from "express";
import type { StampTransform } from "./buildStamp.ts";

const PUBLISHED_BUILD = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;
/** Requests the cache does not answer: ranges and preconditions go through sendStaticFile. */
const UNCACHED_HEADERS = ["range", "if-range", "if-match", "if-unmodified-since"];

export interface CachedPage {
  readonly content: Buffer;
  readonly etag: string;
  readonly mtimeSeconds: number;
  readonly policy: string;
}

export interface PageCache {
  /** True when the request may be answered from memory (published build, plain GET or HEAD). */
  usable(req: Request, build: string): boolean;
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
      if (!PUBLISHED_BUILD.test(basename(build))) return false;
      return UNCACHED_HEADERS.every((name) => req.headers[name] === undefined);
    },
    get(build, key) {
      return build === cachedBuild ? pages.get(key) : undefined;
    },
    async load(build, key, realPath, policyOf) {
      const [content, stats] = await Promise.all([readFile(realPath), stat(realPath, { bigint: true })]);
      const etag = `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
      const page: CachedPage = {
        content,
        etag,
        mtimeSeconds: Math.floor(Number(stats.mtimeMs) / 1000),
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

const stampedPages = new WeakMap<CachedPage, { tag: string; body: Buffer }>();

/** The page with the build stamp, made once per page and stamp rather than per request. */
function stamped(page: CachedPage, stamp: StampTransform): Buffer {
  const known = stampedPages.get(page);
  if (known?.tag === stamp.tag) return known.body;
  const body = stamp.apply(page.content);
  stampedPages.set(page, { tag: stamp.tag, body });
  return body;
}

/** Answers a page from memory: 200 (or 304 for a matching validator), HEAD without a body. */
export function sendCachedPage(
  req: Request,
  res: Response,
  page: CachedPage,
  stamp: StampTransform | undefined,
): void {
  const etag = stamp ? `${page.etag.slice(0, -1)}-${stamp.tag}"` : page.etag;
  const lastModified = new Date(page.mtimeSeconds * 1000).toUTCString();
  res.setHeader("ETag", etag);
  res.setHeader("Last-Modified", lastModified);
  res.setHeader("Cache-Control", "no-cache");
  const ifNoneMatch = req.headers["if-none-match"];
  const since = Date.parse(req.headers["if-modified-since"] ?? "");
  const notModified =
    ifNoneMatch !== undefined
      ? ifNoneMatch.trim() === "*" ||
        ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)
      : !Number.isNaN(since) && page.mtimeSeconds <= Math.floor(since / 1000);
  if (notModified) {
    res.status(304).end();
    return;
  }
  const body = stamp ? stamped(page, stamp) : page.content;
  res.status(200);
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("Content-Security-Policy", page.policy);
  res.setHeader("Content-Length", String(body.length));
  res.end(req.method === "HEAD" ? undefined : body);
}
