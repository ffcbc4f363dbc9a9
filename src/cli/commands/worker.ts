/**
 * `lakebook worker [--concurrency N]`: executes runs from the PostgreSQL queue (DATABASE_URL)
 * until SIGTERM or SIGINT, then finishes its runs or hands them back (LAKEBOOK_WORKER_STOP_MS,
 * default 60 s). Any number of workers, on any machines, share the store and the lake.
 */
import { parseArgs } from "node:util";
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { defaultJobs, withJobs } from "../../jobs/index.ts";
import { benchJobs } from "../../jobs/benchJobs.ts";
import { createLogger } from "../../logger.ts";
import { openRunQueue, queueSettingsFromEnv } from "../../queue/index.ts";
import { openStore } from "../../store/index.ts";
import { startTracing } from "../../telemetry/index.ts";
import { startWorker } from "../../worker/worker.ts";
import { createRunner } from "../../../server/index.ts";
import { untilSignal } from "../signals.ts";

const HELP = `Usage: lakebook worker [--concurrency N]

Takes runs (builds, pipelines) from the PostgreSQL job queue and executes them, N at a time
(default 1). Needs DATABASE_URL; every server and worker on the same PostgreSQL shares the queue.
SIGTERM or SIGINT: takes nothing new, lets its runs finish for up to LAKEBOOK_WORKER_STOP_MS
(default 60000), then hands the rest back to the queue for another worker.`;

export async function worker(options: { args?: string[] }): Promise<void> {
  const { values } = parseArgs({
    args: options.args ?? [],
    options: { concurrency: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const concurrency = Number(values.concurrency ?? "1");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new CliError(`--concurrency must be a whole number from 1 to 256, got '${values.concurrency}'`);
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
    try {
      const runner = createRunner({
        store,
        logger,
        queue,
        jobs: withJobs(
          defaultJobs(config, store),
          process.env.LAKEBOOK_BENCH_JOBS === "true" && benchJobs(config),
        ),
      });
      const running = await startWorker({
        store,
        queue,
        logger,
        concurrency,
        execute: (message, workerId) => runner.runQueued(message.runId, workerId, message.trace),
        drain: (timeoutMs) => runner.drain(timeoutMs, { handBack: true }),
      });
      console.log(
        `lakebook worker ${running.id}: taking runs from the ${queue.kind} queue, ${concurrency} at a time`,
      );
      await untilSignal();
      console.log(`stopping: finishing or handing back ${running.activeCount()} run(s)`);
      await running.stop(stopMs);
    } finally {
      await queue.close();
    }
  } finally {
    await store.close();
    await tracing.shutdown();
  }
}
