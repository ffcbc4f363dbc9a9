/**
 * The fast path for the request a published site serves most: a page view (GET or HEAD) by a
 * reader who may see it. Express costs several times more per request than Node's HTTP server
 * itself (measured: a one-route Express 5 app serves a 10 KB buffer at about a quarter of the
 * rate bare `node:http` does), so this answers such requests before Express sees them.
 *
 * It answers only when every fact it needs is already in memory and fresh: the live build is the
 * one already checked, the page is in the page cache, the build's page rules are read, the
 * session, the user count and the access rules were looked up within their cache TTL, and the
 * build stamp is cached. Then the response is exactly what the Express path sends (same headers,
 * CSP, validators, 304s, request id, log line and latency metric). Anything else — an unknown page, a refusal, a stale cache entry, a
 * conditional or range request the cache does not answer, a route of the server itself — falls
 * through to Express, which decides and refills the caches. So this path can only ever say yes,
 * with the same answer Express would give.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../src/logger.ts";
import type { AccessControl } from "./auth/accessControl.ts";
import type { Metrics } from "./metrics.ts";
import { requestIdFor } from "./middlewares/requestId.ts";
import { traceRequest } from "./middlewares/requestLogger.ts";
import type { PublishedSite } from "./middlewares/siteFiles.ts";
import { sendCachedPage } from "./pageCache.ts";
import { normalizeRequestPath } from "./safePath.ts";

/**
 * First path segments the server's own routes own (app.ts). Express matches routes without
 * regard to case or a trailing slash, so the comparison is on the lowercased segment.
 */
export const SERVER_ROUTES: ReadonlySet<string> = new Set([
  "healthz",
  "readyz",
  "metrics",
  "auth",
  "api",
  "runs",
  "lake",
]);

/**
 * Server routes under a first segment that a page also uses, by that segment and the route's
 * number of segments: `/catalog` is a notebook, `/catalog/<zone>/<dataset>` a server page.
 */
export const SERVER_NESTED_ROUTES: ReadonlyMap<string, number> = new Map([["catalog", 3]]);

export interface FastPageDeps {
  readonly site: PublishedSite;
  readonly access: AccessControl;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** Returns a handler that answers the request and returns true, or does nothing and returns false. */
export function createFastPages({
  site,
  access,
  metrics,
  logger,
}: FastPageDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return function fastPage(req, res) {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let segments: string[];
    try {
      segments = normalizeRequestPath(req.url ?? "");
    } catch {
      return false; // Express answers the 400
    }
    const first = (segments[0] ?? "").toLowerCase();
    if (SERVER_ROUTES.has(first) || SERVER_NESTED_ROUTES.get(first) === segments.length) return false;
    const build = site.builds.currentNow();
    if (build === undefined || !site.pages.usable(req, build)) return false;
    const key = segments.join("/");
    const page = site.pages.get(build, key);
    if (page === undefined) return false;
    const pageRules = site.pageRulesNow(build);
    const principal = access.authenticateNow(req.headers.cookie);
    if (
      pageRules === undefined ||
      principal === undefined ||
      access.canReadPathNow(principal, "/" + key, pageRules) !== true
    ) {
      return false;
    }
    const stamp = site.stamps?.now(build);
    if (site.stamps && stamp === undefined) return false;
    // The reader's view (navigation by permission, readerView.ts), keyed by what they may see.
    let transform = stamp;
    if (site.views) {
      const facts = site.views.factsNow(page.content, "/" + key, principal, pageRules);
      if (facts === undefined) return false;
      transform = site.views.transform(stamp, "/" + key, facts);
    }

    const requestId = requestIdFor(req.headers["x-request-id"]);
    traceRequest(logger, req, res, () => requestId);
    metrics.track(req, res);
    sendCachedPage(req, res, page, transform, requestId);
    return true;
  };
}
