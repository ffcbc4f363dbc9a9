/**
 * The jobs a run or a schedule can name (src/project/jobs.ts): `build` rebuilds and publishes the
 * site (recorded as a build); `run` and `run:<selection>` run the project's sources and models
 * (`lakebook run`); steps joined by `;` run in order (`run:+curated.prices;build`), stopping at
 * the first that fails. Their log lines go to the run, one per step of the project run.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Config } from "../../src/config.ts";
import { isLakebookError } from "../../src/errors.ts";
import { createLake } from "../../src/lake/index.ts";
import { REDACTED_PATHS, type Logger } from "../../src/logger.ts";
import { loadProject, parseJob, runProject } from "../../src/project/index.ts";
import type { Store } from "../../src/store/index.ts";
import {
  formatProgress,
  publishBuild,
  type BuildPhase,
  type ProgressListener,
  type PublishEffects,
} from "../../src/site/index.ts";
import type { Job, JobContext } from "./runner.ts";

const LEVELS: Record<number, "debug" | "info" | "warn" | "error"> = {
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "error",
};

/** A pino logger whose lines become the run's log lines (secrets redacted as everywhere). */
export function runLogger(context: JobContext): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString("utf8").split("\n")) {
        if (!text) continue;
        try {
          const { level, msg, ...rest } = JSON.parse(text) as { level: number; msg?: string } & Record<
            string,
            unknown
          >;
          delete rest.time;
          delete rest.pid;
          delete rest.hostname;
          delete rest.name;
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
          context.log(LEVELS[level] ?? "info", `${msg ?? ""}${extra}`);
        } catch {
          context.log("info", text);
        }
      }
      callback();
    },
  });
  return pino({ level: "info", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, sink);
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

/**
 * The job table the runner looks names up in. `build`, `run` and `pipeline:market` are listed;
 * any other valid job name (`run:<selection>`, steps joined by `;`) is resolved when looked up, so
 * the runner needs no list of every selection.
 */
export function defaultJobs(
  config: Config,
  store: Store,
  onBuildFinished?: PublishEffects["onFinished"],
): Record<string, Job> {
  const build: Job = async (context) => {
    const result = await publishBuild(config, store, {
      logger: runLogger(context),
      runId: context.run.id,
      onProgress: buildProgressReporter(context),
      ...(onBuildFinished && { onFinished: onBuildFinished }),
    });
    context.log("info", `published build ${result.buildId} in ${result.durationMs} ms`);
  };
  const resolve = (name: string): Job | undefined => {
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
        else await runSelection(config, context, step.selection);
      }
    };
  };
  const listed: Record<string, Job> = { build, run: resolve("run")!, "pipeline:market": resolve("run")! };
  return new Proxy(listed, {
    get: (target, name) => (typeof name !== "string" ? undefined : (target[name] ?? resolve(name))),
  });
}
