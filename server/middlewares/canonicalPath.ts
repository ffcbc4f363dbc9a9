import type { NextFunction, Request, Response } from "express";
import { canonicalPath, type CanonicalPath } from "../safePath.ts";

/**
 * Decides the request's canonical path once, before any route or access check sees it, and
 * rewrites `req.url` to its encoded form so Express routes exactly the path the checks compare
 * (`/%6Cake/...` is routed as `/lake/...`, and a bad path is a 400 before anything else runs).
 * Handlers read it back with `canonicalPathOf(res)` instead of parsing `req.originalUrl` again.
 */
export function canonicalRequestPath() {
  return function canonicalRequestPath(req: Request, res: Response, next: NextFunction): void {
    const canonical = canonicalPath(req.url);
    const query = req.url.indexOf("?");
    const url = canonical.encoded + (query === -1 ? "" : req.url.slice(query));
    req.url = url;
    req.originalUrl = url;
    res.locals.canonicalPath = canonical;
    next();
  };
}

/** The path `canonicalRequestPath` decided for this request. */
export function canonicalPathOf(res: Response): CanonicalPath {
  const canonical = res.locals.canonicalPath as CanonicalPath | undefined;
  if (!canonical) throw new Error("canonicalRequestPath must run before the site, lake and access checks");
  return canonical;
}
