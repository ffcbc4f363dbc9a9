/**
 * `lakebook worker [--concurrency N] [--metrics-port P]`: executes runs from the PostgreSQL queue
 * (DATABASE_URL) until SIGTERM or SIGINT, then finishes its runs or hands them back
 * (LAKEBOOK_WORKER_STOP_MS, default 60 s). Any number of workers, on any machines, share the store
 * and the lake. A `lakebook run` job is fanned out: each of its steps is a run of its own.
 */
import { parseArgs } from "node:util";
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { createFanOut, defaultJobs, withJobs } from "../../jobs/index.ts";
import { benchJobs } from "../../jobs/benchJobs.ts";
import { createLogger } from "../../logger.ts";
import { openRunQueue, queueSettingsFromEnv } from "../../queue/index.ts";
import { openStore } from "../../store/index.ts";
import { serveMetrics, startTracing, type MetricsServer } from "../../telemetry/index.ts";
import { startWorker } from "../../worker/worker.ts";
import { createWorkerMetrics } from "../../worker/workerMetrics.ts";
import { createRunner } from "../../../server/index.ts";
import { untilSignal } from "../signals.ts";

const HELP = `Usage: lakebook worker [--concurrency N] [--metrics-port P] [--metrics-host H]

Takes runs (builds, pipelines, the steps of a lakebook run) from the PostgreSQL job queue and
executes them, N at a time (default 1). Needs DATABASE_URL; every server and worker on the same
PostgreSQL shares the queue. SIGTERM or SIGINT: takes nothing new, lets its runs finish for up to
LAKEBOOK_WORKER_STOP_MS (default 60000), then hands the rest back to the queue for another worker.

--metrics-port P   serve Prometheus metrics at http://H:P/metrics (default: off; 0: any free port)
--metrics-host H   the address to listen on for metrics (default 127.0.0.1; 0.0.0.0 in a container)`;

export async function worker(options: { args?: string[] }): Promise<void> {
  const { values } = parseArgs({
    args: options.args ?? [],
    options: {
      concurrency: { type: "string" },
      "metrics-port": { type: "string" },
      "metrics-host": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const concurrency = Number(values.concurrency ?? "1");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new CliError(`--concurrency must be a whole number from 1 to 256, got '${values.concurrency}'`);
  }
  const metricsPort = values["metrics-port"] === undefined ? undefined : Number(values["metrics-port"]);
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
  ) {
    throw new CliError(
      `--metrics-port must be a port number from 0 to 65535, got '${values["metrics-port"]}'`,
    );
  }
  const stopMs = Number(process.env.LAKEBOOK_WORKER_STOP_MS ?? "60000");
  if (!Number.isFinite(stopMs) || stopMs < 0) {
    throw new CliError(
      `LAKEBOOK_WORKER_STOP_MS must be a number of milliseconds, got '${process.env.LAKEBOOK_WORKER_STOP_MS}'`,
    );
  }
  const config = configFromEnv();
  if (!config.databaseUrl) {
    throw new CliError(
      "lakebook worker needs DATABASE_URL (the PostgreSQL shared with the servers); without it, " +
        "'lakebook serve' runs every job itself",
    );
  }
  // Checked before anything is opened: a bad setting must not leave a half-started worker.
  queueSettingsFromEnv();
  const logger = createLogger({ name: "lakebook-worker" });
  const tracing = await startTracing("lakebook-worker");
  const store = await openStore(config);
  try {
    const queue = await openRunQueue(config, logger);
    const metrics = createWorkerMetrics();
    let metricsServer: MetricsServer | undefined;
    try {
      const fanOut = createFanOut({ store, queue, config, logger });
      const runner = createRunner({
        store,
        logger,
        queue,
        jobs: withJobs(
          defaultJobs(config, store, {
            fanOut,
            onBuildFinished: ({ status, durationMs }) =>
              metrics.buildDuration.observe({ status }, durationMs / 1000),
          }),
          process.env.LAKEBOOK_BENCH_JOBS === "true" && benchJobs(config),
        ),
      });
      const running = await startWorker({
        store,
        queue,
        logger,
        concurrency,
        fanOut,
        metrics,
        execute: (message, workerId) => runner.runQueued(message.runId, workerId, message.trace),
        drain: (timeoutMs) => runner.drain(timeoutMs, { handBack: true }),
      });
      if (metricsPort !== undefined) {
        const host = values["metrics-host"] ?? "127.0.0.1";
        metricsServer = await serveMetrics(metrics.registry, metricsPort, host);
        console.log(`lakebook worker ${running.id}: metrics at http://${host}:${metricsServer.port}/metrics`);
      }
      console.log(
        `lakebook worker ${running.id}: taking runs from the ${queue.kind} queue, ${concurrency} at a time`,
      );
      await untilSignal();
      console.log(`stopping: finishing or handing back ${running.activeCount()} run(s)`);
      await running.stop(stopMs);
    } finally {
      await metricsServer?.close();
      await queue.close();
    }
  } finally {
    await store.close();
    await tracing.shutdown();
  }
}
