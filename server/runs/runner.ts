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
 * - `events` carry the runs executing here as they change; after `watch()`, also the runs
 *   executing in other processes on the same store (see runFeed.ts).
 * - `drain()` refuses new runs and waits for the active ones (graceful shutdown).
 */
import { EventEmitter } from "node:events";
import { HttpError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { Run, RunLogLine, RunPatch, Store } from "../../src/store/index.ts";
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
  /** Called after a run settled failed or timed out (metrics); the webhook is sent separately. */
  readonly onSettled?: (run: Run) => void;
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
  drain(timeoutMs: number): Promise<void>;
}

interface Active {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export function createRunner(options: RunnerOptions): Runner {
  const { store, jobs, logger } = options;
  const backoffMs = options.backoffMs ?? 5000;
  const pollMs = options.pollMs ?? 1000;
  const events: RunEvents = new EventEmitter();
  events.setMaxListeners(0);
  const active = new Map<string, Active>();
  /** Runs started here (the newest ones), whose events the runner emits itself. */
  const startedHere = new Set<string>();
  const feed = createRunFeed({ store, events, isLocal: (id) => startedHere.has(id), logger, pollMs });
  let draining = false;

  const update = async (id: string, patch: RunPatch): Promise<Run | undefined> => {
    const run = await store.updateRun(id, patch);
    if (run) events.emit("run", run);
    return run;
  };

  const execute = async (initial: Run, controller: AbortController): Promise<void> => {
    const job = jobs[initial.job];
    let logChain: Promise<unknown> = Promise.resolve();
    const log = (level: string, message: string): void => {
      logChain = logChain
        .then(() => store.appendRunLog(initial.id, level, message.slice(0, 8000)))
        .then((line) => events.emit("log", line))
        .catch((error: unknown) => logger.warn({ err: error, runId: initial.id }, "run log line lost"));
    };
    let run: Run = initial;
    const poll = setInterval(() => {
      void store.maybeRun(initial.id).then(
        (current) => current?.cancelRequested && controller.abort(new CancelError("cancelled")),
        () => undefined,
      );
    }, pollMs);
    poll.unref();
    try {
      for (let attempt = 1; attempt <= initial.maxAttempts; attempt++) {
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
          };
          await Promise.race([job(context), rejectOnAbort(attemptController.signal)]);
          await logChain;
          run = (await update(run.id, { status: "succeeded", progress: 1, finishedAt: new Date() })) ?? run;
          return;
        } catch (error) {
          const reason = attemptController.signal.aborted ? attemptController.signal.reason : error;
          const message = reason instanceof Error ? reason.message : String(reason);
          log("error", message);
          if (reason instanceof CancelError) break;
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
      await logChain;
      options.onSettled?.(run);
    }
  };

  const start = (run: Run): void => {
    startedHere.add(run.id);
    if (startedHere.size > 1000) startedHere.delete(startedHere.values().next().value!);
    const controller = new AbortController();
    const done = execute(run, controller)
      .catch((error: unknown) => logger.error({ err: error, runId: run.id }, "run failed to record"))
      .finally(() => active.delete(run.id));
    active.set(run.id, { controller, done });
  };

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
      });
      if (!run) return undefined;
      events.emit("run", run);
      start(run);
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
        return update(id, { status: "cancelled", finishedAt: new Date(), cancelRequested: true });
      return update(id, { cancelRequested: true });
    },
    async settled(id) {
      await active.get(id)?.done;
      return store.maybeRun(id);
    },
    activeCount: () => active.size,
    async drain(timeoutMs) {
      draining = true;
      // Live streams end now; the runs themselves may take a while.
      events.emit("close");
      const feedClosed = feed.close();
      const all = Promise.all([...active.values()].map((a) => a.done));
      const timer = setTimeout(() => {
        for (const a of active.values())
          a.controller.abort(new CancelError("cancelled: the server shut down"));
      }, timeoutMs);
      await all;
      clearTimeout(timer);
      await feedClosed;
    },
  };
}

class CancelError extends Error {}
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
