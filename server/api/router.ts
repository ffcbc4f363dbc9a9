/**
 * Mounts the route table under /api: JSON bodies up to 64 KB, CSRF guard on state-changing
 * requests, the route's capability, then zod validation of path parameters, query and body
 * (400 with the first problem, never the raw input echoed back).
 */
import express, { Router, type Request, type Response } from "express";
import type { z } from "zod";
import { HttpError } from "../../src/errors.ts";
import { principalOf, refusal } from "../middlewares/authenticate.ts";
import { csrfGuard } from "../middlewares/csrfGuard.ts";
import { ROUTES, type ApiContext, type ApiRoute } from "./routes.ts";

export const API_BODY_LIMIT = "64kb";

export function apiRouter(ctx: ApiContext): Router {
  const router = Router({ caseSensitive: true, strict: true });
  const json = express.json({ limit: API_BODY_LIMIT, strict: true });
  const guard = csrfGuard();
  for (const route of ROUTES) {
    const handlers = [
      ...(route.method === "get" ? [] : [requireJson, json, guard]),
      async (req: Request, res: Response) => {
        const principal = principalOf(res);
        if (route.capability && !(await ctx.access.can(principal, route.capability))) {
          throw refusal(principal, `${route.method.toUpperCase()} /api${route.path}`);
        }
        const params = parse(route.params, req.params, "path parameter");
        const query = parse(route.query, req.query, "query parameter");
        const body = route.body ? parse(route.body, req.body ?? {}, "body") : undefined;
        const result = await route.handler(ctx, { req, res, principal, params, query, body });
        if (result === undefined) {
          if (!res.headersSent && !res.writableEnded) res.status(route.status ?? 204).end();
          return;
        }
        res.status(route.status ?? 200);
        res.setHeader("Cache-Control", "no-store");
        res.json(result);
      },
    ];
    router[route.method](route.path, ...handlers);
  }
  router.use((req: Request) => {
    throw new HttpError(404, `no API route ${req.method} ${req.path}: see /api/openapi.json`);
  });
  return router;
}

function requireJson(req: Request, _res: Response, next: (error?: unknown) => void): void {
  const length = Number(req.get("content-length") ?? 0);
  const chunked = req.get("transfer-encoding") !== undefined;
  if ((length > 0 || chunked) && !req.is("application/json")) {
    next(new HttpError(415, "send the request body as application/json"));
    return;
  }
  next();
}

function parse(schema: z.ZodType | undefined, value: unknown, what: string): Record<string, unknown> {
  if (!schema) {
    if (what === "query parameter" && value && Object.keys(value).length > 0) {
      throw new HttpError(400, `this route takes no ${what}s: see /api/openapi.json`);
    }
    return {};
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` '${issue.path.join(".")}'` : "";
    throw new HttpError(
      400,
      `invalid ${what}${where}: ${issue?.message ?? "not valid"}; see /api/openapi.json`,
    );
  }
  return result.data as Record<string, unknown>;
}

export type { ApiRoute };
