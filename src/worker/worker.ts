/**
 * A `lakebook worker`: takes runs from the queue, at most `concurrency` at once, and executes them
 * with the runner (`execute`), which claims each run for this worker in the store. The worker's
 * own heartbeat (the `workers` table, shown on the Runs page) says it is alive and how busy; the
 * queue keeps a separate heartbeat on each message it holds, which is what hands a run to another
 * worker when this one dies.
 *
 * `stop(timeoutMs)` (SIGTERM): takes nothing new, lets the runs in hand finish for up to
 * `timeoutMs`, then hands the unfinished ones back to the queue for another worker.
 *
 * A worker also takes the runs the queue gave up on (every delivery failed: workers died, timed
 * out or handed them back) and fails their records at once with the reason; and after a step run of
 * a fanned-out `lakebook run` settles, it advances the parent (src/jobs/fanOut.ts).
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { FanOut } from "../jobs/index.ts";
import type { Logger } from "../logger.ts";
import type { QueuedRun, RunQueue } from "../queue/index.ts";
import type { Run, Store } from "../store/index.ts";
import type { WorkerMetrics } from "./workerMetrics.ts";

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
  /** Advances fanned-out runs when one of their steps settles here. */
  readonly fanOut?: FanOut;
  readonly metrics?: WorkerMetrics;
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
  const { metrics, fanOut } = options;
  const beat = (): Promise<void> =>
    store.heartbeatWorker({ id, host: hostname(), pid: process.pid, concurrency, active }).then(
      () => metrics?.heartbeatRecorded(),
      (error: unknown) => logger.warn({ err: error, workerId: id }, "worker heartbeat not recorded"),
    );
  await beat();
  const timer = setInterval(() => void beat(), options.heartbeatMs ?? 5000);
  timer.unref();
  // The Runs page shows how busy a worker is: recorded at once, but with many short runs at most
  // once a second (the last change of a burst is recorded at the end of its second).
  let lastBusyBeat = 0;
  let pendingBeat: NodeJS.Timeout | undefined;
  const busyChanged = (): void => {
    if (pendingBeat) return;
    pendingBeat = setTimeout(
      () => {
        pendingBeat = undefined;
        lastBusyBeat = Date.now();
        void beat();
      },
      Math.max(0, lastBusyBeat + 1000 - Date.now()),
    );
    pendingBeat.unref();
  };

  /** After `run` settled (here or before): the parent of a step goes on, maybe settles. */
  const advanceParent = async (run: Run | undefined, executedHere: boolean): Promise<void> => {
    if (!fanOut || !run?.parentId || run.finishedAt === null) return;
    const { parent, settled } = await fanOut.advance(run.parentId, executedHere ? run : undefined);
    if (settled && parent) metrics?.observeRun(parent);
  };

  await queue.work(
    async (message, delivery) => {
      active++;
      metrics?.taken.inc({ retry: String(delivery.retry > 0) });
      metrics?.active.set(active);
      busyChanged();
      try {
        logger.info(
          { runId: message.runId, job: message.job, retry: delivery.retry, workerId: id },
          "run taken",
        );
        const run = await options.execute(message, id);
        const executedHere = run?.workerId === id && run.finishedAt !== null;
        if (executedHere) metrics?.observeRun(run);
        logger.info({ runId: message.runId, status: run?.status, workerId: id }, "run done");
        await advanceParent(run, executedHere);
      } finally {
        active--;
        metrics?.active.set(active);
        // Idle again: said at once (a worker whose runs are all done must not look busy).
        if (active === 0) void beat();
        else busyChanged();
      }
    },
    {
      concurrency,
      givenUp: async (message, { deliveries }) => {
        const reason =
          `the queue gave up on this run after ${deliveries} deliveries: each worker that took it ` +
          "died, lost its database connection or handed it back (LAKEBOOK_QUEUE_RETRY_LIMIT)";
        const failed = await store.failUnheldRun(message.runId, reason);
        if (failed) {
          metrics?.givenUp.inc();
          metrics?.observeRun(failed);
          logger.warn({ runId: message.runId, job: message.job, workerId: id }, "run given up by the queue");
          await store.appendRunLog(failed.id, "error", reason);
        }
        const run = failed ?? (await store.maybeRun(message.runId));
        // Its last worker died moments ago and its lease has not run out yet: the queue hands
        // this message back later (rejecting it), when the run can be failed.
        if (run && run.finishedAt === null)
          throw new Error(
            `run ${run.id} is still leased until ${run.leaseUntil?.toISOString()}: trying later`,
          );
        await advanceParent(run, failed !== undefined);
      },
    },
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
        clearTimeout(pendingBeat);
        await store.stopWorker(id).catch(() => undefined);
        logger.info({ workerId: id }, "worker stopped");
      })();
      return stopping;
    },
  };
}
