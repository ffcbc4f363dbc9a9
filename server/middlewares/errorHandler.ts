import type { NextFunction, Request, Response } from "express";
import { HttpError, isLakebookError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { NO_CONTENT_POLICY } from "../contentSecurityPolicy.ts";
import { sendErrorPage, wantsErrorPage } from "../pages/errorPage.ts";
import { requestIdOf } from "./requestId.ts";

/** HTTP status for each `LakebookError` code that can reach a response. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  CONFIG: 500,
  STORAGE: 500,
  VERSION_CONFLICT: 409,
  DATA: 422,
  QUALITY: 422,
  SOURCE: 502,
  BUILD: 500,
  CLI: 500,
  CONFLICT: 409,
  NOT_FOUND: 404,
  INVALID_NAME: 400,
  NOTHING_TO_ROLL_BACK: 409,
  STORE_LOCKED: 503,
};

/** The status and the message a client may see for `error`. */
export function describeError(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  if (isLakebookError(error)) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
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
    if (status >= 500) logger.error({ err: error, reqId }, "request failed");
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
    const path = req.originalUrl;
    if (
      path === "/lake" ||
      path.startsWith("/lake/") ||
      path.startsWith("/lake?") ||
      path.startsWith("/api/") ||
      Boolean(req.is("application/json"))
    ) {
      res.json({ error: { status, code, message }, requestId: reqId });
    } else if (wantsErrorPage(req)) {
      sendErrorPage(req, res, { status, message, ...(reqId && { requestId: reqId }) });
    } else {
      res.type("text/plain; charset=utf-8").send(`${message}\n`);
    }
  };
}
