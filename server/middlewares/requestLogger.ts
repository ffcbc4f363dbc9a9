import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../../src/logger.ts";
import { requestIdOf } from "./requestId.ts";

/**
 * One log line per request when its response is finished (or the client went away first):
 * method, path (without the query string, which may carry tokens), status, duration, request id.
 */
export function requestLogger(logger: Logger) {
  return function requestLogger(req: Request, res: Response, next: NextFunction): void {
    traceRequest(logger, req, res, () => requestIdOf(res));
    next();
  };
}

/** Logs the request's line when its response finishes or is abandoned (see `requestLogger`). */
export function traceRequest(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: () => string,
): void {
  if (!logger.isLevelEnabled("info")) return;
  const started = process.hrtime.bigint();
  // Captured now: routers mounted on a prefix rewrite req.url while they handle the request.
  const url = req.url ?? "";
  let logged = false;
  const log = (): void => {
    if (logged) return;
    logged = true;
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const query = url.indexOf("?");
    logger.info(
      {
        reqId: requestId(),
        method: req.method,
        path: query === -1 ? url : url.slice(0, query),
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(!res.writableFinished && { aborted: true }),
      },
      "request",
    );
  };
  res.once("finish", log);
  res.once("close", log);
}
