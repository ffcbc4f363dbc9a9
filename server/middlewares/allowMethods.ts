import type { NextFunction, Request, Response } from "express";
import { HttpError } from "../../src/errors.ts";

/** Refuses any method but `methods` with 405 and an `Allow` header (static routes: GET, HEAD). */
export function allowMethods(methods: readonly string[]) {
  const allow = methods.join(", ");
  return function allowMethods(req: Request, res: Response, next: NextFunction): void {
    if (methods.includes(req.method)) return next();
    res.setHeader("Allow", allow);
    next(new HttpError(405, `method ${req.method} not allowed: use ${allow}`));
  };
}
