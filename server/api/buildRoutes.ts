/** Published builds: the live one, the kept and recorded ones, rollback. */
import { listBuilds, maybeCurrentBuild } from "../../src/site/index.ts";
import { rollback } from "../../src/site/index.ts";
import { HttpError } from "../../src/errors.ts";
import { needStore, notFound, type ApiRoute } from "./route.ts";
import * as s from "./schemas.ts";

export const BUILD_ROUTES: readonly ApiRoute[] = [
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
];

/** The build time: when it was recorded as finished, else the time in its id. */
export function buildTime(id: string, finishedAt: Date | null): string {
  if (finishedAt) return finishedAt.toISOString();
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : id;
}
