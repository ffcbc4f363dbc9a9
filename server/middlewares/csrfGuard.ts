import type { NextFunction, Request, Response } from "express";
import { HttpError } from "../../src/errors.ts";
import { sameToken } from "../auth/accessControl.ts";
import { principalOf } from "./authenticate.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const CSRF_HEADER = "x-csrf-token";

/**
 * Cross-site request forgery protection for every state-changing request:
 * - a browser's cross-site request is refused outright (`Sec-Fetch-Site: cross-site`, or an
 *   `Origin` that is not this server);
 * - with a session, the request must carry the session's CSRF token in `X-CSRF-Token` (API
 *   clients, from `GET /api/session`) or a `csrf` form field (the server's own forms).
 * Requests without a session are left to the route (login has its own check; everything else
 * needs a session anyway). Mounted after a route's body parsers so the form field is readable.
 */
export function csrfGuard(options: { sessionToken?: boolean } = {}) {
  const checkSession = options.sessionToken ?? true;
  return function csrfGuard(req: Request, res: Response, next: NextFunction): void {
    if (SAFE_METHODS.has(req.method)) return next();
    if (req.get("sec-fetch-site") === "cross-site") throw forbidden("cross-site request");
    const origin = req.get("origin");
    if (origin !== undefined && origin !== "null") {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== req.get("host")) throw forbidden("request from another origin");
    } else if (origin === "null") {
      throw forbidden("request from an opaque origin");
    }
    const { session } = principalOf(res);
    if (session && checkSession) {
      const body = req.body as Record<string, unknown> | undefined;
      const sent = req.get(CSRF_HEADER) ?? (typeof body?.csrf === "string" ? body.csrf : undefined);
      if (!sameToken(sent, session.csrfToken)) {
        throw forbidden("missing or wrong CSRF token: send the token from GET /api/session in X-CSRF-Token");
      }
    }
    next();
  };
}

function forbidden(reason: string): HttpError {
  return new HttpError(403, `forbidden: ${reason}`);
}
