import type { NextFunction, Request, Response } from "express";
import helmet from "helmet";
import { NO_CONTENT_POLICY, pagePolicy } from "../contentSecurityPolicy.ts";

/**
 * Scripts get the page policy without inline hashes: a dedicated worker (DuckDB-WASM's) runs
 * under the CSP of its own script response, and must compile WebAssembly and fetch same-origin.
 */
const SCRIPT_POLICY = pagePolicy([]);

/**
 * Headers every response carries, from helmet: nosniff, frame options, HSTS (ignored by browsers
 * over plain HTTP), cross-origin opener/resource policies, no DNS prefetch, and so on. Helmet's
 * own Content-Security-Policy is off: the policy is per response type. Every response starts with
 * the strict no-content policy; pages (`siteFiles`) and the server's own pages replace it with
 * theirs, computed from their content.
 *
 * Helmet's headers do not depend on the request, so they are computed once at start-up by running
 * helmet against a recording response, and then set in one loop instead of a dozen middlewares.
 */
export function securityHeaders() {
  const headers = HELMET_HEADERS;
  return function securityHeaders(req: Request, res: Response, next: NextFunction): void {
    for (const [name, value] of headers) res.setHeader(name, value);
    res.setHeader("Content-Security-Policy", req.path.endsWith(".js") ? SCRIPT_POLICY : NO_CONTENT_POLICY);
    next();
  };
}

const HELMET_HEADERS = helmetHeaders();

/** Helmet's headers as a flat name, value list for `writeHead` (pages add their own CSP). */
export const PAGE_SECURITY_HEADERS: readonly string[] = HELMET_HEADERS.flat();

function helmetHeaders(): [string, string][] {
  const middleware = helmet({
    contentSecurityPolicy: false,
    referrerPolicy: { policy: "same-origin" },
    frameguard: { action: "sameorigin" },
    crossOriginResourcePolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
  });
  const recorded = new Map<string, string>();
  const response = {
    setHeader(name: string, value: string) {
      recorded.set(name, String(value));
    },
    removeHeader(name: string) {
      recorded.delete(name);
    },
  };
  let done = false;
  middleware({} as never, response as never, () => {
    done = true;
  });
  if (!done) throw new Error("helmet did not finish synchronously");
  return [...recorded];
}
