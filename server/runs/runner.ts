/**
 * Runs jobs (pipelines, builds) and records them: status, attempts, log lines and progress in the
 * store, live events for the Runs page.
 *
 * - A run executes in the process that created it; a failed attempt is retried up to
 *   `maxAttempts` with exponential backoff (`backoffMs * 2^(attempt-1)`).
 * - Timeout and cancel abort the job's `signal` and settle the run at once. A job that ignores the
 *   signal keeps running in the background until it returns, but its outcome is discarded; builds
 *   stay safe because a build only becomes live by its final atomic switch.
 * - Cancel from another process sets `cancelRequested` in the store; the owner checks it every
 *   `pollMs` while the run is active.
 * - A run that ends failed or timed out is POSTed to its alert webhook (JSON, 5 s timeout).
 * - While a run is unfinished here its lease is renewed (`leaseMs`); a run whose process died is
 *   marked failed ("abandoned") once the lease expires, by whichever process lists runs next.
 *   A run waiting in a queue that is not local (created here, or handed back by a stopping
 *   worker) has no process yet: its lease is `QUEUED_LEASE_MS`, and the worker that claims it
 *   gets a fresh lease, renewed while it runs the run; a worker that dies loses its runs to
 *   another worker (the queue's heartbeat) before the lease ends.
 * - `events` carry the runs executing here as they change; after `watch()`, also the runs
 *   executing in other processes on the same store (see runFeed.ts).
 * - `drain()` refuses new runs and waits for the active ones (graceful shutdown).
 * - With a queue that is not local (PostgreSQL), `trigger` only records and enqueues the run; a
 *   `lakebook worker` takes it and calls `runQueued`, which claims the run for that worker (every
 *   later write is fenced on the claim) and resumes it at the attempt it had reached. A worker
 *   that drains with `handBack` returns unfinished runs to the queue instead of cancelling them.
 */
import { EventEmitter } from "node:events";
import { HttpError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { createInProcessQueue, QUEUED_LEASE_MS, type RunQueue } from "../../src/queue/index.ts";
import {
  DEFAULT_LEASE_MS,
  keepLeased,
  type Run,
  type RunLogLine,
  type RunPatch,
  type Store,
} from "../../src/store/index.ts";
import { extractTrace, injectTrace, withSpan } from "../../src/telemetry/index.ts";
import type { Job, JobContext } from "../../src/jobs/index.ts";
import { createRunFeed } from "./runFeed.ts";

export type { Job, JobContext };

/** Live run events: a run record whenever it changes, each log line, and the end of streaming. */
export type RunEvents = EventEmitter<{ run: [Run]; log: [RunLogLine]; close: [] }>;

export interface RunnerOptions {
  readonly store: Store;
  readonly jobs: Readonly<Record<string, Job>>;
  readonly logger: Logger;
  /** First retry delay (default 5 s); doubled for each further attempt. */
  readonly backoffMs?: number;
  /**
   * How often active runs check for a cancel requested elsewhere, and runs of other processes
   * are polled while the store's announcements are down (default 1 s).
   */
  readonly pollMs?: number;
  /** Lease of a run this process executes, renewed every quarter of it (default 60 s). */
  readonly leaseMs?: number;
  /** Called after a run settled failed or timed out (metrics); the webhook is sent separately. */
  readonly onSettled?: (run: Run) => void;
  /** Where triggered runs go (default: in-process, executed here). */
  readonly queue?: RunQueue;
  /** Called with the trace context to carry in each queued run (see src/telemetry). */
  readonly traceContext?: () => Record<string, string> | undefined;
}

export interface TriggerOptions {
  readonly job: string;
  readonly triggeredBy?: string | null;
  readonly scheduleId?: string | null;
  readonly tick?: string | null;
  readonly retries?: number;
  readonly timeoutMs?: number;
  readonly alertUrl?: string | null;
}

export interface Runner {
  readonly events: RunEvents;
  readonly jobNames: readonly string[];
  /**
   * From now until `drain()`, `events` also carry the runs executing in other processes.
   * Resolves once they are followed (announcements, or polling when those are down).
   */
  watch(): Promise<void>;
  /** Records a run and starts it; undefined when the (schedule, tick) run exists already. */
  trigger(options: TriggerOptions): Promise<Run | undefined>;
  cancel(id: string, by?: string | null): Promise<Run | undefined>;
  /** Resolves when `id` settles (tests, CLI). */
  settled(id: string): Promise<Run | undefined>;
  activeCount(): number;
  /**
   * Executes a queued run in this process for `workerId` (a `lakebook worker`); resolves with the
   * run once it finished or was handed back. Nothing happens for a run that already finished.
   */
  runQueued(
    runId: string,
    workerId: string,
    trace?: Readonly<Record<string, string>>,
  ): Promise<Run | undefined>;
  /** `handBack`: runs still active after `timeoutMs` go back to the queue instead of being cancelled. */
  drain(timeoutMs: number, options?: { handBack?: boolean }): Promise<void>;
}

interface Active {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export function createRunner(options: RunnerOptions): Runner {
  const { store, jobs, logger } = options;
  const queue = options.queue ?? createInProcessQueue({ logger });
  const backoffMs = options.backoffMs ?? 5000;
  const pollMs = options.pollMs ?? 1000;
  // A queued run waits for a worker, not for this process: it is not abandoned while it waits.
  const queuedLeaseMs = queue.local
    ? options.leaseMs
    : Math.max(options.leaseMs ?? DEFAULT_LEASE_MS, QUEUED_LEASE_MS);
  const events: RunEvents = new EventEmitter();
  events.setMaxListeners(0);
  const active = new Map<string, Active>();
  /** Runs started here (the newest ones), whose events the runner emits itself. */
  const startedHere = new Set<string>();
  const feed = createRunFeed({ store, events, isLocal: (id) => startedHere.has(id), logger, pollMs });
  let draining = false;

  const updateAny = async (id: string, patch: RunPatch, owner?: string): Promise<Run | undefined> => {
    const run = owner ? await store.updateOwnedRun(id, owner, patch) : await store.updateRun(id, patch);
    if (run) events.emit("run", run);
    return run;
  };

  const execute = async (initial: Run, controller: AbortController, owner?: string): Promise<void> => {
    const update = async (id: string, patch: RunPatch): Promise<Run | undefined> => {
      const run = await updateAny(id, patch, owner);
      // Another worker took the run over (this one was presumed dead): stop, and write nothing more.
      if (!run && owner) controller.abort(new LostError(`run ${id} was taken over by another worker`));
      return run;
    };
    const job = jobs[initial.job];
    let logChain: Promise<unknown> = Promise.resolve();
    const log = (level: string, message: string): void => {
      logChain = logChain
        .then(() => store.appendRunLog(initial.id, level, message.slice(0, 8000)))
        .then((line) => events.emit("log", line))
        .catch((error: unknown) => logger.warn({ err: error, runId: initial.id }, "run log line lost"));
    };
    let run: Run = initial;
    let detached = false;
    const poll = setInterval(() => {
      void store.maybeRun(initial.id).then(
        (current) => current?.cancelRequested && controller.abort(new CancelError("cancelled")),
        () => undefined,
      );
    }, pollMs);
    poll.unref();
    const stopLease = keepLeased(store, "run", initial.id, options.leaseMs, (error) =>
      logger.warn({ err: error, runId: initial.id }, "run lease not renewed"),
    );
    try {
      // A run resumed by another worker repeats the attempt its first worker did not finish.
      for (let attempt = Math.max(1, initial.attempt); attempt <= initial.maxAttempts; attempt++) {
        if (controller.signal.aborted) break;
        run =
          (await update(run.id, { status: "running", attempt, startedAt: new Date(), error: null })) ?? run;
        log("info", `attempt ${attempt} of ${run.maxAttempts}: ${run.job}`);
        const attemptController = new AbortController();
        const onCancel = () => attemptController.abort(controller.signal.reason);
        controller.signal.addEventListener("abort", onCancel, { once: true });
        const timer = setTimeout(
          () => attemptController.abort(new TimeoutError(`timed out after ${run.timeoutMs} ms`)),
          run.timeoutMs,
        );
        try {
          if (!job) throw new Error(`unknown job '${run.job}'`);
          const context: JobContext = {
            run,
            signal: attemptController.signal,
            log: (level, message) => log(level, message),
            progress: (fraction) => {
              void update(run.id, { progress: Math.max(0, Math.min(1, fraction)) });
            },
            detach: () => {
              detached = true;
            },
          };
          await withSpan(`attempt ${attempt}`, { "lakebook.run.attempt": attempt }, () =>
            Promise.race([job(context), rejectOnAbort(attemptController.signal)]),
          );
          await logChain;
          // Its steps settle it, maybe already: writing anything now could undo their outcome.
          if (detached) return;
          run = (await update(run.id, { status: "succeeded", progress: 1, finishedAt: new Date() })) ?? run;
          return;
        } catch (error) {
          const reason = attemptController.signal.aborted ? attemptController.signal.reason : error;
          const message = reason instanceof Error ? reason.message : String(reason);
          log("error", message);
          if (reason instanceof CancelError || reason instanceof HandBackError || reason instanceof LostError)
            break;
          const timedOut = reason instanceof TimeoutError;
          await logChain;
          run = (await update(run.id, { status: timedOut ? "timed_out" : "failed", error: message })) ?? run;
          if (attempt < run.maxAttempts && !controller.signal.aborted && !draining) {
            const delay = backoffMs * 2 ** (attempt - 1);
            log("warn", `retrying in ${delay} ms`);
            await sleep(delay, controller.signal);
          }
        } finally {
          clearTimeout(timer);
          controller.signal.removeEventListener("abort", onCancel);
        }
      }
      await logChain;
      if (controller.signal.reason instanceof LostError) return;
      if (controller.signal.reason instanceof HandBackError) {
        log("warn", controller.signal.reason.message);
        await logChain;
        run = (await update(run.id, { status: "queued", error: null })) ?? run;
        await store
          .renewLease("run", run.id, queuedLeaseMs ?? DEFAULT_LEASE_MS)
          .catch((error: unknown) => logger.warn({ err: error, runId: run.id }, "run lease not renewed"));
        return;
      }
      if (controller.signal.aborted) {
        const reason = controller.signal.reason as Error | undefined;
        run =
          (await update(run.id, {
            status: "cancelled",
            error: reason?.message ?? "cancelled",
            finishedAt: new Date(),
          })) ?? run;
        return;
      }
      run = (await update(run.id, { finishedAt: new Date() })) ?? run;
      await sendAlert(run, store, logger);
    } finally {
      clearInterval(poll);
      stopLease();
      // A detached run waits for its steps like a queued run waits for a worker.
      if (detached)
        await store
          .renewLease("run", initial.id, QUEUED_LEASE_MS)
          .catch((error: unknown) => logger.warn({ err: error, runId: initial.id }, "run lease not renewed"));
      await logChain;
      if (!detached) options.onSettled?.(run);
    }
  };

  const start = (run: Run, owner?: string, trace?: Readonly<Record<string, string>>): Promise<void> => {
    startedHere.add(run.id);
    if (startedHere.size > 1000) startedHere.delete(startedHere.values().next().value!);
    const controller = new AbortController();
    const attributes = {
      "lakebook.run.id": run.id,
      "lakebook.job": run.job,
      "lakebook.worker.id": owner ?? "",
    };
    const done = withSpan(
      `run ${run.job}`,
      attributes,
      () => {
        // Inside the run's span: the line carries its trace id.
        logger.info({ runId: run.id, job: run.job, workerId: owner }, "run started");
        return execute(run, controller, owner);
      },
      {
        ...(trace && { parent: extractTrace(trace) }),
      },
    )
      .catch((error: unknown) => logger.error({ err: error, runId: run.id }, "run failed to record"))
      .finally(() => active.delete(run.id));
    active.set(run.id, { controller, done });
    return done;
  };
  let handingBack = false;
  if (queue.local) {
    void queue.work(
      async (message) => {
        const run = message.run ?? (await store.maybeRun(message.runId));
        if (run) await start(run);
      },
      { concurrency: Number.POSITIVE_INFINITY },
    );
  }

  return {
    events,
    jobNames: Object.keys(jobs),
    watch: () => (draining ? Promise.resolve() : feed.start()),
    async trigger(trigger) {
      if (draining)
        throw new HttpError(503, "the server is shutting down: trigger the run again on another server");
      if (!jobs[trigger.job]) {
        throw new HttpError(400, `unknown job '${trigger.job}': use one of ${Object.keys(jobs).join(", ")}`);
      }
      const run = await store.createRun({
        job: trigger.job,
        triggeredBy: trigger.triggeredBy ?? null,
        scheduleId: trigger.scheduleId ?? null,
        tick: trigger.tick ?? null,
        maxAttempts: 1 + Math.max(0, trigger.retries ?? 0),
        timeoutMs: trigger.timeoutMs ?? 30 * 60_000,
        alertUrl: trigger.alertUrl ?? null,
        ...(queuedLeaseMs !== undefined && { leaseMs: queuedLeaseMs }),
      });
      if (!run) return undefined;
      events.emit("run", run);
      const trace = (options.traceContext ?? injectTrace)();
      await queue.enqueue({
        runId: run.id,
        job: run.job,
        maxDurationMs: run.maxAttempts * run.timeoutMs + backoffMs * 2 ** run.maxAttempts,
        ...(trace && { trace }),
        ...(queue.local && { run }),
      });
      return run;
    },
    async cancel(id, by) {
      const local = active.get(id);
      if (local) {
        local.controller.abort(new CancelError(`cancelled${by ? ` by ${by}` : ""}`));
        await local.done;
        return store.maybeRun(id);
      }
      const run = await store.maybeRun(id);
      if (!run || run.finishedAt !== null) return run;
      if (run.status === "queued")
        return updateAny(id, { status: "cancelled", finishedAt: new Date(), cancelRequested: true });
      return updateAny(id, { cancelRequested: true });
    },
    async settled(id) {
      await active.get(id)?.done;
      // A run executing on a worker: follow it in the store.
      for (;;) {
        const run = await store.maybeRun(id);
        if (!run || run.finishedAt !== null || queue.local || draining) return run;
        await sleep(pollMs, new AbortController().signal);
      }
    },
    async runQueued(runId, workerId, trace) {
      if (draining)
        throw new HandBackError(`worker ${workerId} is stopping: run ${runId} goes back to the queue`);
      const claimed = await store.claimRun(runId, workerId);
      if (!claimed) return store.maybeRun(runId);
      events.emit("run", claimed);
      if (claimed.cancelRequested) {
        return updateAny(
          runId,
          { status: "cancelled", error: "cancelled", finishedAt: new Date() },
          workerId,
        );
      }
      if (claimed.attempt > 0) {
        await store.appendRunLog(
          runId,
          "warn",
          `resumed by worker ${workerId} at attempt ${claimed.attempt}`,
        );
      }
      await start(claimed, workerId, trace);
      const run = await store.maybeRun(runId);
      if (handingBack && run && run.finishedAt === null && run.workerId === workerId) {
        // The queue delivers it again, to a worker that is not stopping.
        throw new HandBackError(`run ${runId} handed back by worker ${workerId}`);
      }
      return run;
    },
    activeCount: () => active.size,
    async drain(timeoutMs, drainOptions = {}) {
      draining = true;
      // Live streams end now; the runs themselves may take a while.
      events.emit("close");
      const feedClosed = feed.close();
      const all = Promise.all([...active.values()].map((a) => a.done));
      const timer = setTimeout(() => {
        handingBack = drainOptions.handBack === true;
        for (const a of active.values())
          a.controller.abort(
            handingBack
              ? new HandBackError("handed back to the queue: the worker is stopping")
              : new CancelError("cancelled: the server shut down"),
          );
      }, timeoutMs);
      await all;
      clearTimeout(timer);
      await feedClosed;
    },
  };
}

export { QUEUED_LEASE_MS };

class CancelError extends Error {}
/** The worker stops before the run finished: the run goes back to the queue, unfinished. */
export class HandBackError extends Error {}
/** Another worker claimed the run (this one missed its heartbeats): it stops without writing. */
class LostError extends Error {}
class TimeoutError extends Error {}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

async function sendAlert(run: Run, store: Store, logger: Logger): Promise<void> {
  if (!run.alertUrl || (run.status !== "failed" && run.status !== "timed_out")) return;
  const logs = await store.listRunLogs(run.id);
  try {
    const response = await fetch(run.alertUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        event: "run.failed",
        run: {
          id: run.id,
          job: run.job,
          status: run.status,
          attempt: run.attempt,
          error: run.error,
          scheduleId: run.scheduleId,
          tick: run.tick,
        },
        logTail: logs.slice(-20).map((line) => `${line.level}: ${line.message}`),
      }),
      signal: AbortSignal.timeout(5000),
    });
    await store.audit({ action: "alert.sent", target: run.id, detail: { status: response.status } });
  } catch (error) {
    logger.warn({ err: error, runId: run.id }, "failed-run alert could not be delivered");
    await store.audit({
      action: "alert.failed",
      target: run.id,
      detail: { error: (error as Error).message },
    });
  }
}
