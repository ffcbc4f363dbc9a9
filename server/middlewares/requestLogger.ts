import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../../src/logger.ts";
import { requestIdOf } from "./requestId.ts";

/**
 * One log line per request when its response is finished (or the client went away first):
 * method, path (without the query string, which may carry tokens), status, duration, request id.
 */
export function requestLogger(logger: Logger) {
  return function requestLogger(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    let logged = false;
    const log = (): void => {
      if (logged) return;
      logged = true;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const url = req.originalUrl;
      const query = url.indexOf("?");
      logger.info(
        {
          reqId: requestIdOf(res),
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
    next();
  };
}
