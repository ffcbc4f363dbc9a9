/**
 * The Express app behind `lakebook serve`, built without listening so tests and the e2e setup
 * can mount it on any port. Order: request id, log line and latency metric first (so every
 * response, even an error, is traced), security headers, health and metrics, the session, then
 * login, the API, the Runs page, the lake endpoint, the site as the catch-all, the error handler.
 *
 * With a record store (`effects.store`) the app also runs jobs and schedules and enforces access
 * control once users exist (see auth/accessControl.ts); without one the site and the lake are
 * readable and the run, schedule and login endpoints answer that there is no store.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type Express, type Request, type Response } from "express";
import type { Config } from "../src/config.ts";
import { HttpError } from "../src/errors.ts";
import { createLogger, type Logger } from "../src/logger.ts";
import type { RunQueue } from "../src/queue/index.ts";
import type { Store } from "../src/store/index.ts";
import { openApiDocument } from "./api/openapi.ts";
import { apiRouter } from "./api/router.ts";
import { sendApiDocs } from "./pages/apiDocsPage.ts";
import { createAccessControl, type AccessControl, type AccessControlOptions } from "./auth/accessControl.ts";
import { createRateLimiter } from "./auth/rateLimiter.ts";
import { createBuildStamp } from "./buildStamp.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { allowMethods } from "./middlewares/allowMethods.ts";
import { authenticate, principalOf, refusal } from "./middlewares/authenticate.ts";
import { canonicalRequestPath } from "./middlewares/canonicalPath.ts";
import { errorHandler } from "./middlewares/errorHandler.ts";
import { lakeFiles } from "./middlewares/lakeFiles.ts";
import { requestId } from "./middlewares/requestId.ts";
import { requestLogger } from "./middlewares/requestLogger.ts";
import { tracing } from "./middlewares/tracing.ts";
import { requireRead } from "./middlewares/requireRead.ts";
import { securityHeaders } from "./middlewares/securityHeaders.ts";
import { createPublishedSite, siteFiles } from "./middlewares/siteFiles.ts";
import { createFastPages } from "./fastPages.ts";
import { createReaderViews } from "./readerView.ts";
import { createPdfCache } from "./pdf/pdfCache.ts";
import { createPdfRenderer, type PdfRenderer, type PdfRendererOptions } from "./pdf/pdfRenderer.ts";
import { pagePdfs, pdfPathOf } from "./pdf/pagePdf.ts";
import { createRenderTickets } from "./pdf/renderTickets.ts";
import { sendRunsPage } from "./pages/runsPage.ts";
import { catalogEntryRoute } from "./pages/catalogEntryPage.ts";
import { accountRouter } from "./routes/account.ts";
import { authRouter } from "./routes/auth.ts";
import { defaultJobs } from "./runs/jobs.ts";
import { createRunner, type Job, type Runner } from "./runs/runner.ts";
import { createScheduler, type Scheduler } from "./runs/scheduler.ts";
import { syncConfigSchedules } from "./runs/configSchedules.ts";
import { loadProjectConfig } from "../src/project/index.ts";

/** Side effects and services of the server, swappable in tests (`{ logger: silentLogger }`). */
export interface ServerEffects {
  readonly logger?: Logger;
  /** The record store (the caller opens and closes it). */
  readonly store?: Store;
  /** Jobs runs and schedules can name (default: `build`, `pipeline:market`). */
  readonly jobs?: Readonly<Record<string, Job>>;
  readonly access?: AccessControlOptions;
  readonly login?: Partial<{
    maxFailures: number;
    lockMs: number;
    attemptsPerWindow: number;
    windowMs: number;
  }>;
  readonly runs?: { readonly backoffMs?: number; readonly pollMs?: number; readonly leaseMs?: number };
  /**
   * Where runs go (the caller opens and closes it): PostgreSQL makes this server only enqueue, for
   * `lakebook worker` processes to execute. Default: in-process, runs execute in this server.
   */
  readonly queue?: RunQueue;
  /** Arm cron timers for the stored schedules (default true with a store). */
  readonly schedules?: boolean;
  /**
   * Serve this folder as the site instead of the published build under `siteDir/current`: the
   * output of another Framework project (`lakebook serve --root`), served as it is.
   */
  readonly staticSite?: string;
  /** The PDF snapshot renderer's settings (Chromium path, concurrency, time limit). */
  readonly pdf?: PdfRendererOptions;
}

/** What `startServer` needs to shut the app down gracefully. */
export interface AppServices {
  readonly access: AccessControl;
  readonly metrics: Metrics;
  readonly runner: Runner | undefined;
  readonly scheduler: Scheduler | undefined;
  /** Prints pages to PDF (pdf/pdfRenderer.ts); its browser starts on the first snapshot. */
  readonly pdf: PdfRenderer;
  /**
   * Answers a cached, readable page view without Express and returns true, else returns false
   * and the request goes to the app (see fastPages.ts). `startServer` puts it in front.
   */
  readonly fastPage: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Stops schedules, ends live streams, waits for running jobs (then cancels them). */
  shutdown(timeoutMs: number): Promise<void>;
}

const STATIC_METHODS = ["GET", "HEAD"] as const;

export function createApp(config: Config, effects: ServerEffects = {}): Express {
  const logger = effects.logger ?? createLogger({ name: "lakebook-server" });
  const store = effects.store;
  const access = createAccessControl(config, store, { logger, ...effects.access });
  const running = { count: () => 0 };
  const queue = effects.queue;
  const metrics = createMetrics(config, () => running.count(), queue && (() => queue.depth()));
  const runner: Runner | undefined = store
    ? createRunner({
        store,
        logger,
        jobs:
          effects.jobs ??
          defaultJobs(config, store, ({ status, durationMs }) =>
            metrics.buildDuration.observe({ status }, durationMs / 1000),
          ),
        ...effects.runs,
        ...(effects.queue && { queue: effects.queue }),
        onSettled: (run) => metrics.observeRun(run),
      })
    : undefined;
  if (runner) running.count = () => runner.activeCount();
  const scheduler =
    store && runner && effects.schedules !== false ? createScheduler({ store, runner, logger }) : undefined;
  if (scheduler) {
    // Schedules declared in lakebook.config.ts are stored first, so they run like the others.
    void loadProjectConfig(config.root)
      .then((project) => syncConfigSchedules(store!, project.schedules, logger))
      .catch((error: unknown) =>
        logger.error({ err: error }, "schedules of the project config could not be stored"),
      )
      .then(() => scheduler.sync())
      .catch((error: unknown) => logger.error({ err: error }, "schedules could not be read"));
  }
  if (store) {
    // Runs and builds a stopped process left "running" are failed now, not shown running forever.
    void store.recoverAbandoned().then(
      ({ runs, builds }) => {
        if (runs.length + builds.length === 0) return;
        logger.warn(
          { runs: runs.map((run) => run.id), builds: builds.map((build) => build.id) },
          "marked runs and builds of a stopped process failed (abandoned)",
        );
      },
      (error: unknown) => logger.warn({ err: error }, "abandoned runs and builds could not be checked"),
    );
  }
  let ready = true;
  // Published builds link each page's PDF snapshot; another project's output is served as it is.
  const pdfLink = (pagePath: string) => (pagePath === "/404" ? undefined : pdfPathOf(pagePath));
  const site = createPublishedSite(
    config,
    logger,
    store ? createBuildStamp(store) : undefined,
    createReaderViews(access, effects.staticSite === undefined ? { pdfLink } : {}),
    effects.staticSite,
  );
  const pdf = createPdfRenderer({ logger, ...effects.pdf });
  const renderTickets = createRenderTickets();

  const app = express();
  app.disable("x-powered-by");
  // Bodies built by res.send (errors, redirects) get no ETag; files carry their own.
  app.set("etag", false);
  app.set("query parser", "simple");
  app.set("trust proxy", config.trustProxy);
  // Routes match the canonical path exactly as access checks compare it: `/LAKE` is not `/lake`.
  app.set("case sensitive routing", true);
  app.set("strict routing", true);

  app.use(requestId());
  app.use(tracing());
  app.use(requestLogger(logger));
  app.use(metrics.middleware());
  app.use(canonicalRequestPath());
  app.use(securityHeaders());

  app.get("/healthz", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const checks: Record<string, string> = { server: ready ? "ok" : "shutting down" };
    if (store) checks.store = await pingWithin(store, READY_TIMEOUT_MS);
    const ok = Object.values(checks).every((value) => value === "ok");
    res.setHeader("Cache-Control", "no-store");
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "not ready", checks });
  });

  app.use(authenticate(access, renderTickets));

  app.get("/metrics", async (req: Request, res: Response) => {
    // Scrapers on the machine itself need no session; from elsewhere, only admins.
    // A request relayed by a proxy on this machine comes from loopback too: it counts as remote.
    const local =
      isLoopback(req.socket.remoteAddress) && !req.headers["x-forwarded-for"] && !req.headers.forwarded;
    if (!local && !(await access.can(principalOf(res), "admin"))) {
      throw refusal(principalOf(res), "read /metrics");
    }
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.setHeader("Cache-Control", "no-store");
    res.send(await metrics.registry.metrics());
  });

  app.use("/auth", accountRouter(site));
  app.use(
    "/auth",
    authRouter(
      config,
      access,
      {
        maxFailures: effects.login?.maxFailures ?? 5,
        lockMs: effects.login?.lockMs ?? 15 * 60_000,
        limiter: createRateLimiter({
          limit: effects.login?.attemptsPerWindow ?? 10,
          windowMs: effects.login?.windowMs ?? 60_000,
        }),
      },
      logger,
    ),
  );
  // The API reference for people, offline, from the same document as /api/openapi.json.
  app.get("/api/docs", (_req: Request, res: Response) => sendApiDocs(res, openApiDocument()));
  app.use("/api", apiRouter({ config, access, store, runner, scheduler }));
  app.get("/runs", async (req: Request, res: Response) => {
    const principal = principalOf(res);
    if (!(await access.can(principal, "readOps"))) {
      if (!principal.user) {
        res.redirect(302, "/auth/login?next=%2Fruns");
        return;
      }
      throw refusal(principal, "see runs");
    }
    if (!store || !runner)
      throw new HttpError(503, "this server runs without a record store: start it with `lakebook serve`");
    sendRunsPage(res, {
      runs: await store.listRuns({ limit: 50 }),
      jobs: runner.jobNames,
      ...(effects.queue && !effects.queue.local && { workers: await store.listWorkers() }),
      ...(principal.user && { user: principal.user }),
      ...(principal.session && { session: principal.session }),
      canOperate: await access.can(principal, "operate"),
    });
  });
  // One dataset's catalog entry, checked like the dataset itself (pages/catalogEntryPage.ts).
  app.get("/catalog/:zone/:dataset", catalogEntryRoute(config, access));
  app.use("/lake", allowMethods(STATIC_METHODS), requireRead(access), lakeFiles(config, access));
  app.use(
    allowMethods(STATIC_METHODS),
    pagePdfs({
      site,
      access,
      renderer: pdf,
      cache: createPdfCache(config.siteDir),
      tickets: renderTickets,
      registry: metrics.registry,
    }),
    requireRead(access, () => site.currentPageRules()),
    siteFiles(site),
  );
  app.use(errorHandler(logger));

  const services: AppServices = {
    access,
    metrics,
    runner,
    scheduler,
    pdf,
    fastPage: createFastPages({ site, access, metrics, logger }),
    async shutdown(timeoutMs) {
      ready = false;
      site.close();
      scheduler?.stop();
      await Promise.all([runner?.drain(timeoutMs), pdf.close()]);
    },
  };
  app.locals.lakebook = services;
  return app;
}

/** The services of an app made by `createApp`. */
export function servicesOf(app: Express): AppServices {
  return app.locals.lakebook as AppServices;
}

/** How long /readyz waits for the store before reporting it failed. */
const READY_TIMEOUT_MS = 1000;

/** "ok", or why the store did not answer a round trip within `timeoutMs`. */
async function pingWithin(store: Store, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`failed: no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const ping = store.ping().then(
    () => "ok",
    (error: unknown) => `failed: ${(error as Error).message}`,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}
