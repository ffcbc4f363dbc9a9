/**
 * The API routes as data (see route.ts). The router and the OpenAPI document are both generated
 * from this table, and a test checks the router against the document.
 */
import { BUILD_ROUTES } from "./buildRoutes.ts";
import { DATASET_DOWNLOAD_ROUTE } from "./datasetDownload.ts";
import { DATASET_ROUTES } from "./datasetRoutes.ts";
import { EXPLORER_ROUTES } from "./explorerRoutes.ts";
import type { ApiRoute } from "./route.ts";
import { RUN_ROUTES } from "./runRoutes.ts";
import { SCHEDULE_ROUTES } from "./scheduleRoutes.ts";

export type { ApiContext, ApiRoute, HandlerInput } from "./route.ts";
export { buildTime } from "./buildRoutes.ts";

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
    async handler(ctx) {
      const { openApiDocument } = await import("./openapi.ts");
      return openApiDocument(await ctx.access.mode());
    },
  },
  ...DATASET_ROUTES,
  DATASET_DOWNLOAD_ROUTE,
  ...EXPLORER_ROUTES,
  ...BUILD_ROUTES,
  ...RUN_ROUTES,
  ...SCHEDULE_ROUTES,
];
