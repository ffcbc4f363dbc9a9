/**
 * The jobs a run or a schedule can name (src/project/jobs.ts): `build` rebuilds and publishes the
 * site (recorded as a build); `run` and `run:<selection>` run the project's sources and models
 * (`lakebook run`); steps joined by `;` run in order (`run:+curated.prices;build`), stopping at
 * the first that fails; `pipeline:market` means `run`. Their log lines go to the run, one per step
 * of the project run, and a build streams its progress to the run log.
 *
 * They live in src/ so the server and `lakebook worker`, which never imports server/, know the
 * same jobs by the same names.
 */
import type { Config } from "../config.ts";
import { isLakebookError } from "../errors.ts";
import { createLake } from "../lake/index.ts";
import { loadProject, parseJob, runProject } from "../project/index.ts";
import {
  formatProgress,
  publishBuild as recordedPublishBuild,
  type BuildPhase,
  type ProgressListener,
  type PublishEffects,
} from "../site/index.ts";
import type { Store } from "../store/index.ts";
import { withSpan } from "../telemetry/index.ts";
import { fanOutSelection, STEP_JOB_PREFIX, type FanOut } from "./fanOut.ts";
import type { Job, JobContext } from "./job.ts";
import { runLogger } from "./runLogger.ts";

export interface BuildOutcome {
  readonly status: "succeeded" | "failed";
  readonly durationMs: number;
}

/** Builds and publishes the site, recording the build (src/site's `publishBuild`). */
export type PublishBuild = (
  config: Config,
  store: Store,
  effects: PublishEffects,
) => Promise<{ buildId: string; durationMs: number }>;

export interface JobDependencies {
  /**
   * Runs a `run` / `run:<selection>` job as step runs fanned out to workers (PostgreSQL queue);
   * without it, the steps run in this process.
   */
  readonly fanOut?: FanOut;
  /** Default: src/site's `publishBuild`. */
  readonly publishBuild?: PublishBuild;
  /** Called with each build's duration and outcome (metrics). */
  readonly onBuildFinished?: (outcome: BuildOutcome) => void;
}

/** Phase -> the share of a build done when it ends; loaders fill the stretch before "pages". */
const PHASE_DONE: Readonly<Record<BuildPhase, number>> = {
  prepare: 0.1,
  pages: 0.85,
  check: 0.95,
  publish: 1,
};

/** A build's steps as run log lines and progress, as they happen (the Runs page streams both). */
export function buildProgressReporter(context: JobContext): ProgressListener {
  let done = 0;
  let loaders = 0;
  return (event) => {
    context.log(event.kind === "loader" && event.status === "error" ? "warn" : "info", formatProgress(event));
    if (event.kind === "phase") done = PHASE_DONE[event.phase];
    else if (event.kind === "loader") done = Math.min(0.8, PHASE_DONE.prepare + 0.05 * ++loaders);
    else return;
    context.progress(done);
  };
}

/** Runs a project selection as (part of) a job, one log line per step; throws when a step failed. */
async function runSelection(config: Config, context: JobContext, selection: string[]): Promise<void> {
  const project = await loadProject(config.root);
  const summary = await runProject(
    project,
    { lake: createLake(config), config },
    {
      selection,
      logger: runLogger(context),
      onEvent: (event) => {
        if (event.type !== "finish") return;
        const { step } = event;
        const level = step.status === "failed" || step.status === "blocked" ? "error" : "info";
        const version = step.version === undefined ? "" : ` v${step.version} (${step.rows} rows)`;
        context.log(level, `${step.id}${version} ${step.status}${step.message ? `: ${step.message}` : ""}`);
      },
    },
  );
  const bad = summary.steps.filter((s) => s.status === "failed" || s.status === "blocked");
  if (bad.length > 0)
    throw new Error(`${bad.length} step(s) did not complete: ${bad.map((s) => s.id).join(", ")}`);
}

/** One step (`<zone>.<dataset>`) of a fanned-out run, as its own run; throws when it did not commit. */
async function runStep(config: Config, context: JobContext, id: string): Promise<void> {
  const project = await loadProject(config.root);
  if (!project.graph.nodes.has(id))
    throw new Error(
      `step ${id} is no longer in the project: it was renamed or removed since the run started`,
    );
  const summary = await runProject(
    project,
    { lake: createLake(config), config },
    { selection: [id], logger: runLogger(context) },
  );
  const step = summary.steps[0]!;
  const version = step.version === undefined ? "" : ` v${step.version} (${step.rows} rows)`;
  const line = `${step.id}${version} ${step.status}${step.message ? `: ${step.message}` : ""}`;
  if (step.status === "failed" || step.status === "blocked") throw new Error(line);
  context.log("info", line);
}

/**
 * Resolves job names by looking them up: the listed jobs first, then any valid job name
 * (`run:<selection>`, steps joined by `;`) through `resolve`. Spreading it loses the resolution:
 * add jobs with `withJobs`.
 */
function resolving(
  listed: Record<string, Job>,
  resolve: (name: string) => Job | undefined,
): Record<string, Job> {
  return new Proxy(listed, {
    get: (target, name) =>
      typeof name !== "string" ? undefined : Object.hasOwn(target, name) ? target[name] : resolve(name),
  });
}

/** `jobs` (a job table from `defaultJobs`) with `extra` jobs added, still resolving names. */
export function withJobs(
  jobs: Readonly<Record<string, Job>>,
  extra: Readonly<Record<string, Job>> | false | undefined,
): Record<string, Job> {
  if (!extra) return jobs as Record<string, Job>;
  return resolving({ ...jobs, ...extra }, (name) => jobs[name]);
}

/**
 * The job table the runner looks names up in. `build`, `run` and `pipeline:market` are listed;
 * any other valid job name (`run:<selection>`, steps joined by `;`) is resolved when looked up, so
 * the runner needs no list of every selection.
 */
export function defaultJobs(config: Config, store: Store, deps: JobDependencies = {}): Record<string, Job> {
  const publish = deps.publishBuild ?? recordedPublishBuild;
  const build: Job = async (context) => {
    const result = await withSpan("build", { "lakebook.run.id": context.run.id }, () =>
      publish(config, store, {
        logger: runLogger(context),
        runId: context.run.id,
        onProgress: buildProgressReporter(context),
        ...(deps.onBuildFinished && { onFinished: deps.onBuildFinished }),
      }),
    );
    context.log("info", `published build ${result.buildId} in ${result.durationMs} ms`);
  };
  const resolve = (name: string): Job | undefined => {
    if (name.startsWith(STEP_JOB_PREFIX)) {
      const id = name.slice(STEP_JOB_PREFIX.length);
      return (context) => withSpan(`step ${id}`, { "lakebook.step": id }, () => runStep(config, context, id));
    }
    const { fanOut } = deps;
    if (fanOut && fanOutSelection(name)) {
      return async (context) => {
        if ((await fanOut.start(context.run, context.log)) > 0) context.detach();
      };
    }
    let steps: ReturnType<typeof parseJob>;
    try {
      steps = parseJob(name);
    } catch (error) {
      if (isLakebookError(error)) return undefined;
      throw error;
    }
    return async (context) => {
      for (const step of steps) {
        if (step.kind === "build") await build(context);
        else
          await withSpan(`run ${step.selection.join(" ") || "all"}`, {}, () =>
            runSelection(config, context, step.selection),
          );
      }
    };
  };
  const listed: Record<string, Job> = { build, run: resolve("run")!, "pipeline:market": resolve("run")! };
  return resolving(listed, resolve);
}
