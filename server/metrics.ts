/**
 * Prometheus metrics, one registry per app (tests start several apps in one process):
 * HTTP latency by method, route group and status; runs by job and outcome; build durations;
 * bytes in each lake zone (measured when scraped); plus Node's default process metrics.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import type { Run } from "../src/store/index.ts";
import type { Config } from "../src/config.ts";
import { createLake, ZONES } from "../src/lake/index.ts";
import type { QueueDepth } from "../src/queue/index.ts";
import {
  Gauge,
  Histogram,
  createRegistry,
  createRunMetrics,
  type Counter,
  type Registry,
} from "../src/telemetry/index.ts";

export interface Metrics {
  readonly registry: Registry;
  readonly runs: Counter<"job" | "status">;
  readonly activeRuns: Gauge;
  readonly buildDuration: Histogram<"status">;
  readonly runDuration: Histogram<"job" | "status">;
  /** Counts a run this process executed, once it settled. */
  observeRun(run: Run): void;
  middleware(): (req: Request, res: Response, next: NextFunction) => void;
  /** Observes the request's latency when its response finishes (what `middleware` does). */
  track(req: IncomingMessage, res: ServerResponse): void;
}

export function createMetrics(
  config: Config,
  activeRuns: () => number = () => 0,
  queueDepth?: () => Promise<QueueDepth>,
): Metrics {
  const registry = createRegistry();
  const http = new Histogram({
    name: "lakebook_http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const { runs, runDuration, buildDuration, observeRun } = createRunMetrics(registry);
  const active = new Gauge({
    name: "lakebook_runs_active",
    help: "Runs executing in this process",
    registers: [registry],
    collect() {
      this.set(activeRuns());
    },
  });
  new Gauge({
    name: "lakebook_run_queue_depth",
    help: "Runs in the run queue: waiting for a worker (queued) or held by one (active)",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const depth = queueDepth
        ? await queueDepth().catch(() => undefined)
        : { queued: 0, active: activeRuns() };
      if (!depth) return;
      this.set({ state: "queued" }, depth.queued);
      this.set({ state: "active" }, depth.active);
    },
  });
  new Gauge({
    name: "lakebook_lake_bytes",
    help: "Bytes stored in each lake zone",
    labelNames: ["zone"] as const,
    registers: [registry],
    async collect() {
      const storage = createLake(config).storage;
      for (const zone of ZONES) {
        const objects = await storage.list(`${zone}/`).catch(() => []);
        this.set(
          { zone },
          objects.reduce((sum, object) => sum + object.size, 0),
        );
      }
    },
  });

  // One child per label set: prom-client hashes the label object on every unbound observe.
  const children = new Map<string, Histogram.Internal<"method" | "route" | "status">>();

  return {
    registry,
    runs,
    activeRuns: active,
    buildDuration,
    runDuration,
    observeRun,
    middleware() {
      return function httpMetrics(req: Request, res: Response, next: NextFunction): void {
        track(req, res);
        next();
      };
    },
    track,
  };

  function track(req: IncomingMessage & { route?: { path: unknown } }, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    // Captured now: routers mounted on a prefix rewrite req.url while they handle the request.
    const url = req.url ?? "";
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = req.method ?? "";
      const route = routeGroup(url, req.route);
      const status = String(res.statusCode);
      const key = `${method} ${status} ${route}`;
      let child = children.get(key);
      if (child === undefined) {
        child = http.labels({ method, route, status });
        if (children.size < 1000) children.set(key, child);
      }
      child.observe(seconds);
    });
  }
}

/** A bounded label: the API route pattern when one matched, else the area of the site. */
function routeGroup(url: string, route: { path: unknown } | undefined): string {
  if (url.startsWith("/api/")) return route ? `/api${String(route.path)}` : "/api/*";
  if (url.startsWith("/lake/") || url === "/lake") return "/lake/*";
  if (url.startsWith("/auth/")) return "/auth/*";
  if (url === "/metrics" || url === "/healthz" || url === "/readyz" || url.startsWith("/runs"))
    return url.split("?")[0] ?? url;
  return "/*";
}
