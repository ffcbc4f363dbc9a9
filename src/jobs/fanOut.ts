/**
 * A `lakebook run` selection fanned out to workers (PostgreSQL queue). Every step of the selection
 * (a source or a model) becomes its own run, a step run of the parent run (`parentId`, `step`),
 * enqueued once every selected step it reads from has succeeded, so independent branches run on
 * different workers at once. As in `runProject`, a step that fails (or is blocked by its quality
 * gate) stops only its downstream: those are recorded as cancelled step runs ("skipped: upstream
 * ... failed") and every other branch runs on.
 *
 * The parent holds no worker while its steps run (a coordinator waiting in a worker slot would
 * starve a one-slot cluster): its job enqueues the first steps and detaches; the parent stays
 * `running`, with a queued run's lease, and its log gets one line per step. Whoever settles a step
 * calls `advance`, which enqueues what that step unblocked and, after the last step, settles the
 * parent: succeeded when every step succeeded, else failed naming the steps that did not complete
 * (cancelled when it was cancelled).
 *
 * `advance` is idempotent and may run on several workers at once: the store creates one run per
 * (parent, step), and only the process that created it enqueues it.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { loadProject, parseJob, selectNodes } from "../project/index.ts";
import { QUEUED_LEASE_MS, type RunQueue } from "../queue/index.ts";
import type { Run, RunPatch, Store } from "../store/index.ts";
import { injectTrace } from "../telemetry/index.ts";

/** The job of a step run: `step:<zone>.<dataset>`. */
export const STEP_JOB_PREFIX = "step:";

/** The selection a fan-out runs for `job` (a job of one `run` step); undefined for other jobs. */
export function fanOutSelection(job: string): string[] | undefined {
  let steps: ReturnType<typeof parseJob>;
  try {
    steps = parseJob(job);
  } catch {
    return undefined;
  }
  const [only] = steps;
  return steps.length === 1 && only?.kind === "run" ? only.selection : undefined;
}

export interface FanOutOptions {
  readonly store: Store;
  readonly queue: RunQueue;
  readonly config: Config;
  readonly logger: Logger;
  /** The runner's first retry delay: with the attempts and timeout it bounds a step's queue lease. */
  readonly backoffMs?: number;
}

export interface FanOut {
  /**
   * Starts `parent` (a job `fanOutSelection` accepts): records its steps' order in its log and
   * enqueues the steps that read no other selected step. Returns the number of selected steps.
   */
  start(parent: Run, log: (level: "info" | "warn", message: string) => void): Promise<number>;
  /**
   * After step run `finished` of `parentId` settled (or whenever in doubt): enqueues the steps
   * whose upstream all succeeded, skips those an upstream stopped, settles the parent after its
   * last step. Returns the parent, and whether this call settled it.
   */
  advance(parentId: string, finished?: Run): Promise<{ parent: Run | undefined; settled: boolean }>;
}

type StepState = "succeeded" | "stopped" | "open";

export function createFanOut(options: FanOutOptions): FanOut {
  const { store, queue, config, logger } = options;
  const backoffMs = options.backoffMs ?? 5000;

  const enqueueStep = async (parent: Run, step: string): Promise<void> => {
    const run = await store.createRun({
      job: `${STEP_JOB_PREFIX}${step}`,
      parentId: parent.id,
      step,
      triggeredBy: parent.triggeredBy,
      maxAttempts: parent.maxAttempts,
      timeoutMs: parent.timeoutMs,
      leaseMs: QUEUED_LEASE_MS,
    });
    if (!run) return; // Another worker created it (and enqueues it).
    const trace = injectTrace();
    await queue.enqueue({
      runId: run.id,
      job: run.job,
      maxDurationMs: run.maxAttempts * run.timeoutMs + backoffMs * 2 ** run.maxAttempts,
      ...(trace && { trace }),
    });
  };

  const skipStep = async (parent: Run, step: string, reason: string): Promise<void> => {
    const run = await store.createRun({ job: `${STEP_JOB_PREFIX}${step}`, parentId: parent.id, step });
    if (!run) return;
    await store.updateRun(run.id, { status: "cancelled", error: reason, finishedAt: new Date() });
    await store.appendRunLog(parent.id, "error", `${step} skipped: ${reason}`);
  };

  const advance: FanOut["advance"] = async (parentId, finished) => {
    const parent = await store.maybeRun(parentId);
    if (!parent || parent.finishedAt !== null) return { parent, settled: false };
    const selection = fanOutSelection(parent.job) ?? [];
    if (finished?.finishedAt) {
      const where = finished.workerId ? ` on ${finished.workerId}` : "";
      const seconds =
        finished.startedAt &&
        ((finished.finishedAt.getTime() - finished.startedAt.getTime()) / 1000).toFixed(1);
      await store.appendRunLog(
        parentId,
        finished.status === "succeeded" ? "info" : "error",
        `${finished.step} ${finished.status}${where}${seconds ? ` in ${seconds} s` : ""}` +
          (finished.error ? `: ${finished.error}` : ""),
      );
    }
    const { graph } = await loadProject(config.root);
    const selected = selectNodes(graph, selection);
    const inSelection = new Set(selected);
    const runs = new Map((await store.listStepRuns(parentId)).map((run) => [run.step!, run]));
    const states = new Map<string, StepState>();
    for (const id of selected) {
      const run = runs.get(id);
      if (run) {
        const state = run.finishedAt === null ? "open" : run.status === "succeeded" ? "succeeded" : "stopped";
        states.set(id, state);
        if (state === "open" && parent.cancelRequested) await cancelStep(store, run);
        continue;
      }
      const upstream = graph.nodes.get(id)!.upstream.filter((up) => inSelection.has(up));
      const stopped = upstream.find((up) => states.get(up) === "stopped");
      if (stopped || parent.cancelRequested) {
        if (stopped) {
          const by = runs.get(stopped);
          const what = !by
            ? "was skipped"
            : by.status === "cancelled"
              ? "was cancelled or skipped"
              : by.status;
          await skipStep(parent, id, `upstream ${stopped} ${what}`);
        }
        states.set(id, "stopped");
      } else if (upstream.every((up) => states.get(up) === "succeeded")) {
        await enqueueStep(parent, id);
        states.set(id, "open");
      } else states.set(id, "open");
    }
    const values = [...states.values()];
    const done = values.filter((state) => state !== "open").length;
    if (done < values.length) {
      const progress = done / values.length;
      return { parent: await store.updateRun(parentId, { progress }), settled: false };
    }
    const bad = selected.filter((id) => states.get(id) !== "succeeded");
    const patch: RunPatch = parent.cancelRequested
      ? { status: "cancelled", error: "cancelled", finishedAt: new Date() }
      : bad.length === 0
        ? { status: "succeeded", progress: 1, error: null, finishedAt: new Date() }
        : {
            status: "failed",
            error: `${bad.length} step(s) did not complete: ${bad.join(", ")}`,
            progress: 1,
            finishedAt: new Date(),
          };
    logger.info({ runId: parentId, status: patch.status }, "fanned-out run settled");
    await store.appendRunLog(parentId, bad.length ? "error" : "info", patch.error ?? "every step succeeded");
    return { parent: await store.updateRun(parentId, patch), settled: true };
  };

  return {
    async start(parent, log) {
      const { graph } = await loadProject(config.root);
      const selected = selectNodes(graph, fanOutSelection(parent.job) ?? []);
      if (selected.length === 0) return 0;
      log("info", `${selected.length} step(s), each a run on any worker: ${selected.join(", ")}`);
      await advance(parent.id);
      return selected.length;
    },
    advance,
  };
}

async function cancelStep(store: Store, run: Run): Promise<void> {
  if (run.status === "queued")
    await store.updateRun(run.id, { status: "cancelled", error: "cancelled", finishedAt: new Date() });
  else if (!run.cancelRequested) await store.updateRun(run.id, { cancelRequested: true });
}
