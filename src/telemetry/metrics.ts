/**
 * Prometheus metrics shared by servers (server/metrics.ts, at `/metrics`) and workers
 * (src/worker/workerMetrics.ts, on `--metrics-port`): one registry per instance (tests start
 * several in one process) with Node's default process metrics, and the run and build metrics of
 * whichever process executes the runs, under the same names in both so one dashboard covers both.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Run } from "../store/index.ts";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

/** A registry with Node's default process metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface RunMetrics {
  readonly runs: Counter<"job" | "status">;
  readonly runDuration: Histogram<"job" | "status">;
  readonly buildDuration: Histogram<"status">;
  /** Counts a settled run and observes its duration (start of its last attempt to its end). */
  observeRun(run: Run): void;
}

/** The run and build metrics, registered in `registry`. */
export function createRunMetrics(registry: Registry): RunMetrics {
  const runs = new Counter({
    name: "lakebook_runs_total",
    help: "Runs that settled, by job and final status",
    labelNames: ["job", "status"] as const,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: "lakebook_run_duration_seconds",
    help: "Run duration from the start of its last attempt to its end, by job and final status",
    labelNames: ["job", "status"] as const,
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600],
    registers: [registry],
  });
  const buildDuration = new Histogram({
    name: "lakebook_build_duration_seconds",
    help: "Site build duration, by outcome",
    labelNames: ["status"] as const,
    buckets: [1, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  return {
    runs,
    runDuration,
    buildDuration,
    observeRun(run) {
      runs.inc({ job: run.job, status: run.status });
      if (run.startedAt && run.finishedAt) {
        const seconds = (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000;
        runDuration.observe({ job: run.job, status: run.status }, seconds);
      }
    },
  };
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `registry` at `GET /metrics` on `host:port` (port 0: any free port). */
export async function serveMetrics(registry: Registry, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res
        .writeHead(404, { "Content-Type": "text/plain" })
        .end("not found: the metrics are at GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) =>
        res.writeHead(200, { "Content-Type": registry.contentType, "Cache-Control": "no-store" }).end(text),
      (error: unknown) => res.writeHead(500, { "Content-Type": "text/plain" }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
