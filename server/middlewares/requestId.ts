import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every request an id, echoed in `X-Request-Id` and in its log line. A well-formed id from
 * an upstream proxy is kept so one request can be followed across hops; anything else is replaced.
 */
export function requestId() {
  return function requestId(req: Request, res: Response, next: NextFunction): void {
    const id = requestIdFor(req.headers["x-request-id"]);
    res.locals.requestId = id;
    res.setHeader("X-Request-Id", id);
    next();
  };
}

/** The incoming `X-Request-Id` when it is well-formed, else a new id. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === "string" && INCOMING_ID.test(incoming) ? incoming : randomUUID();
}

/** The id `requestId()` assigned to this response. */
export function requestIdOf(res: Response): string {
  return typeof res.locals.requestId === "string" ? res.locals.requestId : "";
}
