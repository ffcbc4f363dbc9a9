/**
 * Sends one file with HTTP validators, conditional requests and single byte ranges.
 *
 * Written here rather than delegated to `res.sendFile` because the lake needs guarantees `send`
 * does not give: a strong ETag (DuckDB-WASM revalidates and `If-Range` needs strong comparison),
 * RFC 9110 precondition order, and reading from the file descriptor opened after the path check,
 * so a site switch or a lake commit during a response never mixes two files in one body.
 *
 * Decisions: a Range header naming several satisfiable ranges is answered with 200 and the whole
 * file (allowed by RFC 9110 §14.2; DuckDB-WASM only ever asks for one range). HEAD answers exactly
 * as GET would, without the body: DuckDB-WASM probes a remote file with `HEAD` + `Range: bytes=0-`
 * and refuses to open it unless that probe returns 206.
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Request, Response } from "express";
import { HttpError } from "../src/errors.ts";
import { contentTypeFor } from "./contentType.ts";
import { parseRange, type ByteRange } from "./range.ts";

export interface SendFileOptions {
  /** The Cache-Control header for a successful response. */
  readonly cacheControl: string;
  /** Overrides the Content-Type derived from the file extension. */
  readonly contentType?: string;
  /** Response status for an error page (e.g. 404.html): no validators, ranges or 304. */
  readonly status?: number;
  /**
   * Extra headers computed from the file's bytes (the page CSP hashes its inline scripts). When
   * given, the file is read into memory before anything is sent.
   */
  readonly headersFromContent?: (content: Buffer, realPath: string, etag: string) => Record<string, string>;
  /** Extra headers independent of the content. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Rewrites the body (the build stamp on pages). `tag` names the rewrite and becomes part of the
   * ETag, so a changed stamp is a changed representation.
   */
  readonly transform?: { readonly tag: string; apply(content: Buffer): Buffer };
}

/** Sends `realPath` (already checked to lie inside its root) as the response to `req`. */
export async function sendStaticFile(
  req: Request,
  res: Response,
  realPath: string,
  options: SendFileOptions,
): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    // O_NOFOLLOW: the caller resolved every symlink; a link appearing since then is not followed.
    handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw new HttpError(404, "not found", { cause: error });
  }
  let streaming = false;
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) throw new HttpError(404, "not found");
    const transform = options.transform;
    const tagSuffix = transform ? `-${transform.tag}` : "";
    const etag = `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}${tagSuffix}"`;
    const mtimeSeconds = Math.floor(Number(stats.mtimeMs) / 1000);
    const lastModified = new Date(mtimeSeconds * 1000).toUTCString();
    const fromContent = options.headersFromContent;
    const original = fromContent || transform ? await handle.readFile() : undefined;
    const extraHeaders = fromContent && original ? fromContent(original, realPath, etag) : {};
    const content = original && transform ? transform.apply(original) : original;
    const size = content ? content.length : Number(stats.size);
    const isErrorPage = options.status !== undefined;

    const validators = { etag, mtimeSeconds };
    if (!isErrorPage) {
      const failed = failedPrecondition(req, validators);
      if (failed === 412) throw new HttpError(412, "precondition failed: the file has changed");
      if (failed === 304) {
        res.status(304);
        // A browser updates its cached copy's headers from a 304: the page keeps its own policy.
        for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
        res.setHeader("ETag", etag);
        res.setHeader("Last-Modified", lastModified);
        res.setHeader("Cache-Control", options.cacheControl);
        res.end();
        return;
      }
    }

    let range: ByteRange | undefined;
    if (
      !isErrorPage &&
      (req.method === "GET" || req.method === "HEAD") &&
      rangeStillValid(req, validators, lastModified)
    ) {
      const parsed = parseRange(req.get("range"), size);
      if (parsed === "unsatisfiable") {
        res.setHeader("Content-Range", `bytes */${size}`);
        throw new HttpError(416, `range not satisfiable: the file has ${size} bytes`);
      }
      if (parsed?.length === 1) range = parsed[0];
    }

    res.status(range ? 206 : (options.status ?? 200));
    res.setHeader("Content-Type", options.contentType ?? contentTypeFor(basename(realPath)));
    if (!isErrorPage) {
      res.setHeader("ETag", etag);
      res.setHeader("Last-Modified", lastModified);
      res.setHeader("Accept-Ranges", "bytes");
    }
    res.setHeader("Cache-Control", isErrorPage ? "no-store" : options.cacheControl);
    for (const [name, value] of Object.entries({ ...options.headers, ...extraHeaders }))
      res.setHeader(name, value);
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range) res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    res.setHeader("Content-Length", String(Math.max(0, end - start + 1)));

    if (req.method === "HEAD" || size === 0) {
      res.end();
      return;
    }
    const body = content
      ? Readable.from([content.subarray(start, end + 1)])
      : handle.createReadStream({ start, end, autoClose: true });
    streaming = !content;
    await pipeline(body, res).catch((error: unknown) => {
      // The client went away mid-body (normal for DuckDB-WASM cancelling reads): nothing to report.
      if ((error as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE") return;
      res.destroy(error as Error);
    });
  } finally {
    if (!streaming) await handle.close().catch(() => undefined);
  }
}

interface Validators {
  readonly etag: string;
  readonly mtimeSeconds: number;
}

/** RFC 9110 §13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
function failedPrecondition(req: Request, { etag, mtimeSeconds }: Validators): 304 | 412 | undefined {
  const ifMatch = req.get("if-match");
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, etag, "strong")) return 412;
  } else {
    const since = parseHttpDate(req.get("if-unmodified-since"));
    if (since !== undefined && mtimeSeconds > since) return 412;
  }
  const ifNoneMatch = req.get("if-none-match");
  if (ifNoneMatch !== undefined) {
    return etagListMatches(ifNoneMatch, etag, "weak") ? 304 : undefined;
  }
  const modifiedSince = parseHttpDate(req.get("if-modified-since"));
  if (modifiedSince !== undefined && mtimeSeconds <= modifiedSince) return 304;
  return undefined;
}

/** If-Range: the range applies only if the client's copy is exactly this one (strong match). */
function rangeStillValid(req: Request, { etag }: Validators, lastModified: string): boolean {
  const ifRange = req.get("if-range")?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith("W/")) return ifRange === etag;
  return ifRange === lastModified;
}

function etagListMatches(header: string, etag: string, comparison: "strong" | "weak"): boolean {
  if (header.trim() === "*") return true;
  const opaque = etag.replace(/^W\//, "");
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    if (comparison === "strong") return tag === etag && !tag.startsWith("W/");
    return tag.replace(/^W\//, "") === opaque;
  });
}

/** Seconds since the epoch for a valid HTTP date, else undefined (an invalid date is ignored). */
function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
