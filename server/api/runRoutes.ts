/** Runs: history, trigger, cancel, logs and the live event stream. */
import { streamRunEvents } from "./events.ts";
import { checkProjectSelection, needRunner, needStore, notFound, type ApiRoute } from "./route.ts";
import * as s from "./schemas.ts";
import type { z } from "zod";

export const RUN_ROUTES: readonly ApiRoute[] = [
  {
    method: "get",
    path: "/runs",
    tag: "runs",
    summary: "Run history, newest first",
    capability: "readOps",
    query: s.listRunsQuery,
    async handler(ctx, { query }) {
      const runs = await needStore(ctx).listRuns({
        limit: query.limit as number | undefined,
        status: query.status as never,
        job: query.job as string | undefined,
      });
      return { runs, jobs: ctx.runner?.jobNames ?? [] };
    },
  },
  {
    method: "post",
    path: "/runs",
    tag: "runs",
    summary:
      "Start a run of a job (build, run, run:<selection>, compact:<zone>.<dataset>, steps joined by ;)",
    capability: "operate",
    body: s.triggerBody,
    status: 202,
    async handler(ctx, { principal, body }) {
      const input = body as z.infer<typeof s.triggerBody>;
      // A selection naming nothing in the project is refused now, not queued to fail later.
      await checkProjectSelection(ctx, input.job);
      return needRunner(ctx).trigger({ ...input, triggeredBy: principal.user?.name ?? null });
    },
  },
  {
    method: "get",
    path: "/runs/events",
    tag: "runs",
    summary: "Server-Sent Events: `run` (status, attempt, progress) and `log` (a log line) as runs progress",
    capability: "readOps",
    produces: "text/event-stream",
    async handler(ctx, { req, res }) {
      streamRunEvents(needRunner(ctx), req, res);
      return undefined;
    },
  },
  {
    method: "get",
    path: "/workers",
    tag: "runs",
    summary: "Workers heard from in the last hour (id, runs in hand, concurrency, heartbeat), newest first",
    capability: "readOps",
    async handler(ctx) {
      return { workers: await needStore(ctx).listWorkers() };
    },
  },
  {
    method: "get",
    path: "/runs/:id",
    tag: "runs",
    summary: "One run",
    capability: "readOps",
    params: s.runParams,
    async handler(ctx, { params }) {
      const run = await needStore(ctx).maybeRun(params.id as string);
      if (!run) throw notFound(`run ${String(params.id)}`);
      return run;
    },
  },
  {
    method: "get",
    path: "/runs/:id/logs",
    tag: "runs",
    summary: "A run's log lines (after a sequence number)",
    capability: "readOps",
    params: s.runParams,
    query: s.logsQuery,
    async handler(ctx, { params, query }) {
      const store = needStore(ctx);
      if (!(await store.maybeRun(params.id as string))) throw notFound(`run ${String(params.id)}`);
      return {
        lines: await store.listRunLogs(params.id as string, { afterSeq: query.after as number | undefined }),
      };
    },
  },
  {
    method: "post",
    path: "/runs/:id/cancel",
    tag: "runs",
    summary: "Cancel a queued or running run",
    capability: "operate",
    params: s.runParams,
    body: s.empty,
    async handler(ctx, { principal, params }) {
      const run = await needRunner(ctx).cancel(params.id as string, principal.user?.name ?? null);
      if (!run) throw notFound(`run ${String(params.id)}`);
      await ctx.store?.audit({ action: "run.cancel", actor: principal.user?.name ?? null, target: run.id });
      return run;
    },
  },
];
