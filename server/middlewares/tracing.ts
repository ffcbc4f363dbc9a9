/**
 * A server span per request (OpenTelemetry; a no-op unless tracing is on), active while Express
 * handles it, so a run triggered by the request joins its trace and log lines carry its ids.
 */
import type { NextFunction, Request, Response } from "express";
import { runInContext, SpanKind, startSpan } from "../../src/telemetry/index.ts";

export function tracing() {
  return function tracing(req: Request, res: Response, next: NextFunction): void {
    const { span, context } = startSpan(
      `HTTP ${req.method}`,
      { "http.request.method": req.method, "url.path": req.path },
      SpanKind.SERVER,
    );
    res.once("close", () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      if (route) span.updateName(`HTTP ${req.method} ${req.baseUrl}${route}`);
      span.setAttribute("http.response.status_code", res.statusCode);
      span.end();
    });
    runInContext(context, next);
  };
}
