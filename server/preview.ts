/**
 * `lakebook preview`: Framework's live-reloading preview server, the lake and the API on one
 * origin, so the explorer reads `/lake/...` and `/api/...` in preview as it does when published.
 *
 * Framework's PreviewServer attaches its request and WebSocket handlers to whatever server object
 * it is given. It gets an event emitter standing in for a server; the real HTTP server answers
 * `/lake` itself and forwards every other request and upgrade (live reload) to that emitter.
 */
import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { Config } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { createLogger } from "../src/logger.ts";
import { apiRouter } from "./api/router.ts";
import { createAccessControl } from "./auth/accessControl.ts";
import { allowMethods } from "./middlewares/allowMethods.ts";
import { canonicalRequestPath } from "./middlewares/canonicalPath.ts";
import { errorHandler } from "./middlewares/errorHandler.ts";
import { lakeFiles } from "./middlewares/lakeFiles.ts";
import { requestId } from "./middlewares/requestId.ts";
import type { ServerEffects } from "./app.ts";
import type { RunningServer } from "./startServer.ts";
import {
  createLocalNpm,
  guardFrameworkDownloads,
  LAKEBOOK_ROOT,
  loadFramework,
  normalizeDynamicPaths,
  offlineSpec,
  prepareCache,
  readFrameworkSpec,
  selfHostedStylesheets,
  withOfflineDuckDB,
  type FrameworkProject,
} from "../src/site/index.ts";

interface PreviewServerClass {
  new (options: { server: EventEmitter; verbose?: boolean }): { _readConfig: () => Promise<unknown> };
}

export interface PreviewOptions {
  /** Preview another Framework project (its pages and config) instead of the notebooks. */
  readonly framework?: FrameworkProject;
}

export async function startPreview(
  config: Config,
  effects: ServerEffects = {},
  options: PreviewOptions = {},
): Promise<RunningServer> {
  const logger = effects.logger ?? createLogger({ name: "lakebook-preview" });
  // Loaded through the site module first: it switches Framework's telemetry off.
  const { normalizeConfig } = await loadFramework();
  const previewModule = "@observablehq/framework/dist/preview.js";
  const { PreviewServer } = (await import(previewModule)) as { PreviewServer: PreviewServerClass };
  // The project's config with absolute paths, as the builds use it; Framework would otherwise
  // resolve `root` against the working directory. Edits to the config file need a restart;
  // pages, components and loaders reload live.
  const pagesDir = options.framework?.pagesDir ?? config.notebooksDir;
  const npm = createLocalNpm([options.framework?.root ?? config.root, LAKEBOOK_ROOT]);
  let spec: Record<string, unknown>;
  if (options.framework) spec = offlineSpec(options.framework.spec);
  else {
    const own = await readFrameworkSpec(config.root);
    spec = { ...own, globalStylesheets: selfHostedStylesheets(own.globalStylesheets) };
  }
  // Any form of dynamicPaths (a plain async function too), as in builds (src/site/entityPaths.ts).
  const frameworkConfig = normalizeConfig({
    ...(await withOfflineDuckDB(spec, npm)),
    dynamicPaths: normalizeDynamicPaths(spec.dynamicPaths),
    root: pagesDir,
  });
  await prepareCache(pagesDir, npm, logger);
  // As in builds: npm imports are answered from node_modules, other downloads refused, for as
  // long as the preview runs (the guard passes every other request through).
  const guard = guardFrameworkDownloads(() => "preview", npm);
  const framework = new EventEmitter();
  const previewServer = new PreviewServer({ server: framework, verbose: false });
  previewServer._readConfig = async () => frameworkConfig;

  const lake = express();
  lake.disable("x-powered-by");
  lake.set("case sensitive routing", true);
  lake.set("strict routing", true);
  lake.use(requestId());
  lake.use(canonicalRequestPath());
  lake.use("/lake", allowMethods(["GET", "HEAD"]), lakeFiles(config));
  // The explorer's API (datasets, time travel, server-side queries), open as the preview is.
  lake.use(
    "/api",
    apiRouter({
      config,
      access: createAccessControl(config, undefined),
      store: undefined,
      runner: undefined,
      scheduler: undefined,
    }),
  );
  lake.use(errorHandler(logger));

  const server = createServer((req, res) => {
    if (/^\/(lake|api)(\/|$|\?)/.test(req.url ?? "")) lake(req, res);
    else framework.emit("request", req, res);
  });
  server.on("upgrade", (req, socket, head) => framework.emit("upgrade", req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(`${config.host}:${config.port} cannot be opened (${error.code}): set PORT`, {
          cause: error,
        }),
      ),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  framework.emit("listening");
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url }, "preview listening");
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).finally(() => guard.release()),
  };
}
