/**
 * `POST /api/query {sql, pins?}`: the explorer's SQL run on the server (explorer/serverQuery.ts),
 * answered as an Arrow IPC stream. Rate-limited per user (per client address when anonymous) and
 * capped in concurrency for the whole process, so one reader cannot take the machine.
 */
import { z } from "zod";
import { HttpError } from "../../src/errors.ts";
import { createRateLimiter } from "../auth/rateLimiter.ts";
import { DEFAULT_QUERY_LIMITS, duckMessage, startServerQuery } from "../explorer/serverQuery.ts";
import type { ApiRoute } from "./route.ts";

/** Queries per user per minute. */
export const QUERIES_PER_MINUTE = 60;
/** Queries running at once in this process (each may use `threads` cores). */
const MAX_CONCURRENT = 4;

export const queryBody = z
  .object({
    sql: z.string().min(1).max(20_000),
    /** Versions a shared link pinned: "zone.dataset" -> version. */
    pins: z.record(z.string().max(200), z.number().int().min(1).max(99_999_999)).optional(),
  })
  .strict();

const limiter = createRateLimiter({ limit: QUERIES_PER_MINUTE, windowMs: 60_000 });
let running = 0;

export const QUERY_ROUTE: ApiRoute = {
  method: "post",
  path: "/query",
  tag: "explorer",
  summary:
    "Runs one read-only SELECT over the datasets the reader may read; answers an Arrow IPC stream (application/vnd.apache.arrow.stream)",
  capability: "read",
  body: queryBody,
  produces: "application/vnd.apache.arrow.stream",
  async handler(ctx, { req, res, principal, body }) {
    const key = principal.user ? `user:${principal.user.name}` : `ip:${req.ip ?? "unknown"}`;
    const wait = limiter.hit(key);
    if (wait !== undefined) {
      res.setHeader("Retry-After", String(wait));
      throw new HttpError(
        429,
        `too many queries: at most ${QUERIES_PER_MINUTE} a minute per reader; try again in ${wait} s`,
      );
    }
    if (running >= MAX_CONCURRENT) {
      res.setHeader("Retry-After", "2");
      throw new HttpError(503, "the server is running as many queries as it can: try again in a moment");
    }
    running += 1;
    const limits = DEFAULT_QUERY_LIMITS;
    try {
      const { sql, pins } = body as z.infer<typeof queryBody>;
      const query = await startServerQuery(
        ctx.config,
        ctx.access,
        principal,
        { sql, ...(pins && { pins }) },
        limits,
      );
      try {
        res.status(200);
        res.setHeader("Content-Type", "application/vnd.apache.arrow.stream");
        res.setHeader("Cache-Control", "no-store");
        res.setHeader("X-Lakebook-Row-Limit", String(limits.maxRows));
        res.setHeader(
          "X-Lakebook-Versions",
          query.refs.map((r) => `${r.zone}.${r.dataset}@${r.version}`).join(","),
        );
        await query.pipe(res).catch((error: unknown) => {
          // Headers are sent: the only way left to say "failed" is to cut the stream.
          res.destroy(new Error(duckMessage(error)));
        });
      } finally {
        query.close();
      }
    } finally {
      running -= 1;
    }
    return undefined;
  },
};
