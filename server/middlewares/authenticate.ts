import type { NextFunction, Request, Response } from "express";
import type { AccessControl, Capability, Principal } from "../auth/accessControl.ts";
import { HttpError } from "../../src/errors.ts";
import { RENDER_HEADER, type RenderTickets } from "../pdf/renderTickets.ts";

/**
 * Resolves the session cookie to a principal (`res.locals.principal`); never refuses by itself.
 * A request of the PDF renderer's Chromium carries a render ticket instead (pdf/renderTickets.ts).
 */
export function authenticate(access: AccessControl, tickets?: RenderTickets) {
  return async function authenticate(req: Request, res: Response, next: NextFunction): Promise<void> {
    const rendering = tickets?.principalOf(
      req.get(RENDER_HEADER),
      req.socket.remoteAddress,
      req.socket.localAddress,
    );
    res.locals.principal = rendering ?? (await access.authenticate(req.get("cookie")));
    next();
  };
}

export function principalOf(res: Response): Principal {
  return (res.locals.principal as Principal | undefined) ?? {};
}

/** 401 when nobody is signed in (and anonymous access does not allow it), 403 for a wrong role. */
export function refusal(principal: Principal, what: string): HttpError {
  return principal.user
    ? new HttpError(403, `forbidden: your role '${principal.user.role}' may not ${what}; ask an admin`)
    : new HttpError(401, `sign in to ${what}: POST /auth/login or open /auth/login`);
}

/** Requires a capability for everything below it (the API routes). */
export function requireCapability(access: AccessControl, capability: Capability, what: string) {
  return async function requireCapability(_req: Request, res: Response, next: NextFunction): Promise<void> {
    const principal = principalOf(res);
    if (!(await access.can(principal, capability))) throw refusal(principal, what);
    next();
  };
}
