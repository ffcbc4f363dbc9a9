/**
 * A `lakebook worker`: takes runs from the queue, at most `concurrency` at once, and executes them
 * with the runner (`execute`), which claims each run for this worker in the store. The worker's
 * own heartbeat (the `workers` table, shown on the Runs page) says it is alive and how busy; the
 * queue keeps a separate heartbeat on each message it holds, which is what hands a run to another
 * worker when this one dies.
 *
 * `stop(timeoutMs)` (SIGTERM): takes nothing new, lets the runs in hand finish for up to
 * `timeoutMs`, then hands the unfinished ones back to the queue for another worker.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "../logger.ts";
import type { QueuedRun, RunQueue } from "../queue/index.ts";
import type { Run, Store } from "../store/index.ts";

export interface WorkerOptions {
  readonly store: Store;
  readonly queue: RunQueue;
  readonly logger: Logger;
  readonly concurrency: number;
  /** Executes a queued run for this worker (the runner's `runQueued`). */
  execute(message: QueuedRun, workerId: string): Promise<Run | undefined>;
  /** Ends the runs in hand: finished, or handed back after `timeoutMs` (the runner's `drain`). */
  drain(timeoutMs: number): Promise<void>;
  /** How often the worker records its heartbeat (default 5 s). */
  readonly heartbeatMs?: number;
}

export interface RunningWorker {
  readonly id: string;
  activeCount(): number;
  stop(timeoutMs: number): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { store, queue, logger } = options;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const concurrency = Math.max(1, Math.trunc(options.concurrency));
  let active = 0;
  const beat = (): Promise<void> =>
    store
      .heartbeatWorker({ id, host: hostname(), pid: process.pid, concurrency, active })
      .catch((error: unknown) => logger.warn({ err: error, workerId: id }, "worker heartbeat not recorded"));
  await beat();
  const timer = setInterval(() => void beat(), options.heartbeatMs ?? 5000);
  timer.unref();

  await queue.work(
    async (message, delivery) => {
      active++;
      void beat();
      try {
        logger.info(
          { runId: message.runId, job: message.job, retry: delivery.retry, workerId: id },
          "run taken",
        );
        const run = await options.execute(message, id);
        logger.info({ runId: message.runId, status: run?.status, workerId: id }, "run done");
      } finally {
        active--;
        void beat();
      }
    },
    { concurrency },
  );
  logger.info({ workerId: id, concurrency, queue: queue.kind }, "worker started");

  let stopping: Promise<void> | undefined;
  return {
    id,
    activeCount: () => active,
    stop(timeoutMs) {
      stopping ??= (async () => {
        logger.info({ workerId: id, active }, "worker stopping: finishing or handing back its runs");
        await Promise.all([options.drain(timeoutMs), queue.stopWorking()]);
        clearInterval(timer);
        await store.stopWorker(id).catch(() => undefined);
        logger.info({ workerId: id }, "worker stopped");
      })();
      return stopping;
    },
  };
}
