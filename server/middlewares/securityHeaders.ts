import type { NextFunction, Request, Response } from "express";

/**
 * Headers every response carries. The Content-Security-Policy is per response type and set where
 * the body is produced (pages: `siteFiles`, data and errors: `lakeFiles`, `errorHandler`).
 */
export function securityHeaders() {
  return function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "same-origin");
    res.setHeader("X-Frame-Options", "SAMEORIGIN");
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    next();
  };
}
