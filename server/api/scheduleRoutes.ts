/** Schedules (cron, UTC) and the audit log. */
import { checkCron } from "../runs/scheduler.ts";
import { HttpError } from "../../src/errors.ts";
import { parseJob } from "../../src/project/index.ts";
import {
  checkProjectSelection,
  needRunner,
  needStore,
  notFound,
  type ApiContext,
  type ApiRoute,
} from "./route.ts";
import * as s from "./schemas.ts";
import type { z } from "zod";

export const SCHEDULE_ROUTES: readonly ApiRoute[] = [
  {
    method: "get",
    path: "/schedules",
    tag: "schedules",
    summary: "Schedules",
    capability: "readOps",
    async handler(ctx) {
      return { schedules: await needStore(ctx).listSchedules() };
    },
  },
  {
    method: "post",
    path: "/schedules",
    tag: "schedules",
    summary: "Create a schedule (cron in UTC)",
    capability: "admin",
    body: s.scheduleBody,
    status: 201,
    async handler(ctx, { principal, body }) {
      const input = body as z.infer<typeof s.scheduleBody>;
      checkCron(input.cron);
      await checkJob(ctx, input.job);
      const schedule = await needStore(ctx).addSchedule(input);
      await ctx.store?.audit({
        action: "schedule.add",
        actor: principal.user?.name ?? null,
        target: schedule.id,
      });
      await ctx.scheduler?.sync();
      return schedule;
    },
  },
  {
    method: "get",
    path: "/schedules/:id",
    tag: "schedules",
    summary: "One schedule with its recent runs",
    capability: "readOps",
    params: s.scheduleParams,
    async handler(ctx, { params }) {
      const store = needStore(ctx);
      const schedule = await store.maybeSchedule(params.id as string);
      if (!schedule) throw notFound(`schedule ${String(params.id)}`);
      const runs = (await store.listRuns({ limit: 200 }))
        .filter((run) => run.scheduleId === schedule.id)
        .slice(0, 20);
      return { ...schedule, runs };
    },
  },
  {
    method: "patch",
    path: "/schedules/:id",
    tag: "schedules",
    summary: "Change a schedule (e.g. enabled: false)",
    capability: "admin",
    params: s.scheduleParams,
    body: s.schedulePatch,
    async handler(ctx, { principal, params, body }) {
      const input = body as z.infer<typeof s.schedulePatch>;
      if (input.cron !== undefined) checkCron(input.cron);
      if (input.job !== undefined) await checkJob(ctx, input.job);
      const schedule = await needStore(ctx).updateSchedule(params.id as string, input);
      if (!schedule) throw notFound(`schedule ${String(params.id)}`);
      await ctx.store?.audit({
        action: "schedule.update",
        actor: principal.user?.name ?? null,
        target: schedule.id,
        detail: input,
      });
      await ctx.scheduler?.sync();
      return schedule;
    },
  },
  {
    method: "delete",
    path: "/schedules/:id",
    tag: "schedules",
    summary: "Delete a schedule (its run history stays)",
    capability: "admin",
    params: s.scheduleParams,
    status: 204,
    async handler(ctx, { principal, params, res }) {
      if (!(await needStore(ctx).removeSchedule(params.id as string)))
        throw notFound(`schedule ${String(params.id)}`);
      await ctx.store?.audit({
        action: "schedule.remove",
        actor: principal.user?.name ?? null,
        target: String(params.id),
      });
      await ctx.scheduler?.sync();
      res.status(204).end();
      return undefined;
    },
  },
  {
    method: "post",
    path: "/schedules/:id/trigger",
    tag: "schedules",
    summary: "Run a schedule's job now (outside its cron ticks)",
    capability: "operate",
    params: s.scheduleParams,
    body: s.empty,
    status: 202,
    async handler(ctx, { principal, params }) {
      const schedule = await needStore(ctx).maybeSchedule(params.id as string);
      if (!schedule) throw notFound(`schedule ${String(params.id)}`);
      return needRunner(ctx).trigger({
        job: schedule.job,
        scheduleId: schedule.id,
        retries: schedule.retries,
        timeoutMs: schedule.timeoutMs,
        alertUrl: schedule.alertUrl,
        triggeredBy: principal.user?.name ?? null,
      });
    },
  },
  {
    method: "get",
    path: "/audit",
    tag: "audit",
    summary: "Audit events, newest first",
    capability: "admin",
    query: s.listQuery,
    async handler(ctx, { query }) {
      return { events: await needStore(ctx).listAudit({ limit: query.limit as number | undefined }) };
    },
  },
];

async function checkJob(ctx: ApiContext, job: string): Promise<void> {
  const names = ctx.runner?.jobNames ?? [];
  // Listed jobs, and any project job (run:<selection>, steps joined by ';') the runner resolves.
  if (!names.includes(job) && !(ctx.runner && isProjectJob(job)))
    throw new HttpError(400, `unknown job '${job}': use one of ${names.join(", ")}`);
  // A selection naming nothing in the project would fail at every tick: refused now.
  await checkProjectSelection(ctx, job);
}

function isProjectJob(job: string): boolean {
  try {
    parseJob(job);
    return true;
  } catch {
    return false;
  }
}
