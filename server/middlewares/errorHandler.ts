import type { NextFunction, Request, Response } from "express";
import { HttpError, isLakebookError, statusOfCode } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { NO_CONTENT_POLICY } from "../contentSecurityPolicy.ts";
import { requestIdOf } from "./requestId.ts";

/** Seconds a client should wait before retrying a request the record store's outage refused. */
export const STORE_RETRY_AFTER_S = 5;

/** The status and the message a client may see for `error`. */
export function describeError(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  if (isLakebookError(error)) {
    const status = statusOfCode(error.code);
    // An outage is worth saying (it is temporary); its details (addresses) stay in the log.
    if (error.code === "STORE_UNAVAILABLE")
      return { status, code: error.code, message: "the record store is unavailable: try again shortly" };
    return { status, code: error.code, message: status < 500 ? error.message : "internal server error" };
  }
  // Errors from Express itself (e.g. a malformed body) carry a 4xx `status`; their text is generic.
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
  if (typeof status === "number" && status >= 400 && status < 500) {
    if (type === "entity.too.large") return { status, code: "HTTP", message: "request body too large" };
    if (type === "entity.parse.failed") return { status, code: "HTTP", message: "malformed JSON body" };
    return { status, code: "HTTP", message: "bad request" };
  }
  return { status: 500, code: "INTERNAL", message: "internal server error" };
}

/**
 * The last middleware: maps errors to a status, a short body (JSON under /lake and /api, plain
 * text elsewhere) and never a stack trace. Unexpected errors are logged with their stack.
 */
export function errorHandler(logger: Logger) {
  return function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
    const { status, code, message } = describeError(error);
    const reqId = requestIdOf(res);
    if (code === "STORE_UNAVAILABLE")
      logger.warn({ err: error, reqId }, "request refused: store unavailable");
    else if (status >= 500) logger.error({ err: error, reqId }, "request failed");
    if (res.headersSent) {
      // The body already started: the only honest signal left is to cut the connection.
      res.destroy();
      return;
    }
    for (const name of ["ETag", "Last-Modified", "Accept-Ranges", "Content-Length", "Content-Encoding"]) {
      res.removeHeader(name);
    }
    res.status(status);
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Content-Security-Policy", NO_CONTENT_POLICY);
    if (code === "STORE_UNAVAILABLE") res.setHeader("Retry-After", String(STORE_RETRY_AFTER_S));
    const path = req.originalUrl;
    if (
      path === "/lake" ||
      path.startsWith("/lake/") ||
      path.startsWith("/lake?") ||
      path.startsWith("/api/") ||
      Boolean(req.is("application/json"))
    ) {
      res.json({ error: { status, code, message }, requestId: reqId });
    } else {
      res.type("text/plain; charset=utf-8").send(`${message}\n`);
    }
  };
}
