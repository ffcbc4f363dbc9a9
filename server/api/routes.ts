/**
 * The API routes as data: method, path, the capability needed, zod schemas for path parameters,
 * query and body, and a handler. The router and the OpenAPI document are both generated from this
 * table, and a test checks the router against the document.
 */
import type { Request, Response } from "express";
import { z } from "zod";
import type { Config } from "../../src/config.ts";
import { HttpError, isLakebookError } from "../../src/errors.ts";
import { createLake, listHeads, listVersionNumbers, readManifest } from "../../src/lake/index.ts";
import { listBuilds, maybeCurrentBuild } from "../../src/site/index.ts";
import type { Store } from "../../src/store/index.ts";
import type { AccessControl, Capability, Principal } from "../auth/accessControl.ts";
import { refusal } from "../middlewares/authenticate.ts";
import { rollback } from "../publish.ts";
import type { Runner } from "../runs/runner.ts";
import { checkCron, type Scheduler } from "../runs/scheduler.ts";
import * as s from "./schemas.ts";
import { streamRunEvents } from "./events.ts";

export interface ApiContext {
  readonly config: Config;
  readonly access: AccessControl;
  readonly store: Store | undefined;
  readonly runner: Runner | undefined;
  readonly scheduler: Scheduler | undefined;
}

export interface HandlerInput {
  readonly req: Request;
  readonly res: Response;
  readonly principal: Principal;
  readonly params: Record<string, unknown>;
  readonly query: Record<string, unknown>;
  readonly body: unknown;
}

export interface ApiRoute {
  readonly method: "get" | "post" | "patch" | "delete";
  /** Express syntax: `/runs/:id` (under /api). */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** undefined: anyone (the session and the spec). */
  readonly capability?: Capability;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Success status (default 200). */
  readonly status?: number;
  /** Content type of the success response (default application/json). */
  readonly produces?: string;
  /** Returns the JSON body; undefined when the handler wrote the response itself. */
  readonly handler: (ctx: ApiContext, input: HandlerInput) => Promise<unknown>;
}

function needStore(ctx: ApiContext): Store {
  if (!ctx.store)
    throw new HttpError(503, "this server runs without a record store: start it with `lakebook serve`");
  return ctx.store;
}

function needRunner(ctx: ApiContext): Runner {
  if (!ctx.runner)
    throw new HttpError(503, "this server runs without a record store: start it with `lakebook serve`");
  return ctx.runner;
}

function notFound(what: string): HttpError {
  return new HttpError(404, `${what} not found`);
}

async function readableDataset(
  ctx: ApiContext,
  principal: Principal,
  zone: string,
  dataset: string,
): Promise<void> {
  if (zone !== "curated" && !(await ctx.access.can(principal, "readOps")))
    throw refusal(principal, `read the ${zone} zone`);
  if (!(await ctx.access.canReadPath(principal, `/lake/${zone}/${dataset}/`)))
    throw refusal(principal, `read ${zone}/${dataset}`);
}

function lakeOf(ctx: ApiContext) {
  return createLake(ctx.config).storage;
}

function summary(manifest: Awaited<ReturnType<typeof readManifest>>) {
  return {
    zone: manifest.zone,
    dataset: manifest.dataset,
    version: manifest.version,
    parent: manifest.parent,
    createdAt: manifest.createdAt,
    rowCount: manifest.rowCount,
    bytes: manifest.bytes,
    quality: manifest.quality?.status ?? null,
  };
}

export const ROUTES: readonly ApiRoute[] = [
  {
    method: "get",
    path: "/session",
    tag: "auth",
    summary: "The signed-in user, the CSRF token for state-changing requests, and the access mode",
    async handler(ctx, { principal }) {
      const mode = await ctx.access.mode();
      return {
        mode,
        user: principal.user
          ? { name: principal.user.name, role: principal.user.role, groups: principal.user.groups }
          : null,
        csrfToken: principal.session?.csrfToken ?? null,
        expiresAt: principal.session?.expiresAt.toISOString() ?? null,
      };
    },
  },
  {
    method: "get",
    path: "/openapi.json",
    tag: "meta",
    summary: "This document",
    async handler() {
      const { openApiDocument } = await import("./openapi.ts");
      return openApiDocument();
    },
  },
  {
    method: "get",
    path: "/datasets",
    tag: "datasets",
    summary: "Datasets of a zone (default curated) with their current version",
    capability: "read",
    query: s.listDatasetsQuery,
    async handler(ctx, { principal, query }) {
      const zone = (query.zone as "raw" | "staging" | "curated" | undefined) ?? "curated";
      if (zone !== "curated" && !(await ctx.access.can(principal, "readOps")))
        throw refusal(principal, `read the ${zone} zone`);
      const heads = await listHeads(lakeOf(ctx), zone);
      const visible = [];
      for (const head of heads) {
        if (await ctx.access.canReadPath(principal, `/lake/${zone}/${head.dataset}/`))
          visible.push(summary(head));
      }
      return { datasets: visible };
    },
  },
  {
    method: "get",
    path: "/datasets/:zone/:dataset/versions",
    tag: "datasets",
    summary: "Committed versions of a dataset, newest first",
    capability: "read",
    params: s.datasetParams,
    query: s.listQuery,
    async handler(ctx, { principal, params, query }) {
      const { zone, dataset } = params as { zone: "curated"; dataset: string };
      await readableDataset(ctx, principal, zone, dataset);
      const storage = lakeOf(ctx);
      const numbers = (await listVersionNumbers(storage, zone, dataset))
        .reverse()
        .slice(0, (query.limit as number) ?? 100);
      if (numbers.length === 0) throw notFound(`dataset ${zone}/${dataset}`);
      const versions = await Promise.all(
        numbers.map(async (n) => summary(await readManifest(storage, zone, dataset, n))),
      );
      return { versions };
    },
  },
  {
    method: "get",
    path: "/datasets/:zone/:dataset/versions/:version",
    tag: "datasets",
    summary: "One version's manifest: files, schema, row count, lineage, quality",
    capability: "read",
    params: s.versionParams,
    async handler(ctx, { principal, params }) {
      const { zone, dataset, version } = params as { zone: "curated"; dataset: string; version: number };
      await readableDataset(ctx, principal, zone, dataset);
      try {
        return await readManifest(lakeOf(ctx), zone, dataset, version);
      } catch (error) {
        if (isLakebookError(error) && error.code === "NOT_FOUND")
          throw notFound(`version ${version} of ${zone}/${dataset}`);
        throw error;
      }
    },
  },
  {
    method: "get",
    path: "/builds",
    tag: "builds",
    summary: "Builds, newest first: recorded ones (including failures) and the folders kept for rollback",
    capability: "read",
    query: s.listQuery,
    async handler(ctx, { query }) {
      const [current, kept, records] = await Promise.all([
        maybeCurrentBuild(ctx.config.siteDir),
        listBuilds(ctx.config.siteDir),
        ctx.store?.listBuilds({ limit: (query.limit as number) ?? 100 }) ?? Promise.resolve([]),
      ]);
      const ids = new Set([...records.map((r) => r.id), ...kept]);
      const byId = new Map(records.map((r) => [r.id, r]));
      const builds = [...ids]
        .sort()
        .reverse()
        .slice(0, (query.limit as number) ?? 100)
        .map((id) => ({
          id,
          live: id === current,
          kept: kept.includes(id),
          ...(byId.get(id) ?? {
            status: "succeeded",
            startedAt: null,
            finishedAt: null,
            durationMs: null,
            dataVersions: {},
            error: null,
          }),
        }));
      return { current: current ?? null, builds };
    },
  },
  {
    method: "get",
    path: "/builds/current",
    tag: "builds",
    summary: "The live build: id, build time and the curated dataset versions it was built from",
    capability: "read",
    async handler(ctx) {
      const current = await maybeCurrentBuild(ctx.config.siteDir);
      if (!current) throw new HttpError(404, "no site published yet: run `lakebook build`");
      const record = await ctx.store?.maybeBuild(current);
      return {
        id: current,
        builtAt: buildTime(current, record?.finishedAt ?? null),
        dataVersions: record?.dataVersions ?? null,
      };
    },
  },
  {
    method: "get",
    path: "/builds/:id",
    tag: "builds",
    summary: "One recorded build",
    capability: "read",
    params: s.buildParams,
    async handler(ctx, { params }) {
      const build = await needStore(ctx).maybeBuild(params.id as string);
      if (!build) throw notFound(`build ${String(params.id)}`);
      return build;
    },
  },
  {
    method: "post",
    path: "/builds/rollback",
    tag: "builds",
    summary: "Make the previous kept build live again",
    capability: "admin",
    body: s.empty,
    async handler(ctx, { principal }) {
      return rollback(ctx.config, ctx.store, principal.user?.name ?? null);
    },
  },
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
    summary: "Start a run of a job (build, pipeline:market, ...)",
    capability: "operate",
    body: s.triggerBody,
    status: 202,
    async handler(ctx, { principal, body }) {
      const input = body as z.infer<typeof s.triggerBody>;
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
      checkJob(ctx, input.job);
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
      if (input.job !== undefined) checkJob(ctx, input.job);
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

function checkJob(ctx: ApiContext, job: string): void {
  const names = ctx.runner?.jobNames ?? [];
  if (!names.includes(job)) throw new HttpError(400, `unknown job '${job}': use one of ${names.join(", ")}`);
}

/** The build time: when it was recorded as finished, else the time in its id. */
export function buildTime(id: string, finishedAt: Date | null): string {
  if (finishedAt) return finishedAt.toISOString();
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : id;
}
