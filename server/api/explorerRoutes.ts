/**
 * The explorer's API: the datasets the reader may query (every served zone, access rules
 * applied), one version of a dataset for time travel, and `POST /query` (server-side SQL).
 */
import { isLakebookError } from "../../src/errors.ts";
import { createLake, readManifest } from "../../src/lake/index.ts";
import { refusal } from "../middlewares/authenticate.ts";
import { describeForExplorer, listExplorerDatasets } from "../explorer/datasets.ts";
import { canReadDataset } from "../explorer/zones.ts";
import { notFound, type ApiRoute } from "./route.ts";
import * as s from "./schemas.ts";
import { QUERY_ROUTE } from "./queryRoute.ts";

export const EXPLORER_ROUTES: readonly ApiRoute[] = [
  {
    method: "get",
    path: "/explorer/datasets",
    tag: "explorer",
    summary:
      "Datasets the reader may query, in every zone they may read: current version, schema, files, quality, lineage",
    capability: "read",
    async handler(ctx, { principal }) {
      return { datasets: await listExplorerDatasets(ctx.config, ctx.access, principal) };
    },
  },
  {
    method: "get",
    path: "/explorer/datasets/:zone/:dataset/versions/:version",
    tag: "explorer",
    summary: "One version of a dataset as the explorer queries it (time travel: zone.dataset@version)",
    capability: "read",
    params: s.versionParams,
    async handler(ctx, { principal, params }) {
      const { zone, dataset, version } = params as { zone: "curated"; dataset: string; version: number };
      // A dataset the reader may not read answers as a missing one: its existence is not revealed.
      if (!(await canReadDataset(ctx.access, principal, zone, dataset))) {
        if (!principal.user && !(await ctx.access.can(principal, "read"))) throw refusal(principal, "read");
        throw notFound(`version ${version} of ${zone}/${dataset}`);
      }
      try {
        return describeForExplorer(
          await readManifest(createLake(ctx.config).storage, zone, dataset, version),
        );
      } catch (error) {
        if (isLakebookError(error) && error.code === "NOT_FOUND")
          throw notFound(`version ${version} of ${zone}/${dataset}`);
        throw error;
      }
    },
  },
  QUERY_ROUTE,
];
