/** Datasets and their versions, read from the lake (curated for viewers, every zone for analysts). */
import { createLake, listHeads, listVersionNumbers, readManifest } from "../../src/lake/index.ts";
import { isLakebookError } from "../../src/errors.ts";
import { refusal } from "../middlewares/authenticate.ts";
import type { Principal } from "../auth/accessControl.ts";
import { notFound, type ApiContext, type ApiRoute } from "./route.ts";
import * as s from "./schemas.ts";

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

export const DATASET_ROUTES: readonly ApiRoute[] = [
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
];
