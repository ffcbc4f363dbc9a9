/**
 * The jobs a run or a schedule can name. `build` rebuilds and publishes the site (recorded as a
 * build); `pipeline:market` runs the demo market pipeline. Their log lines go to the run.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Config } from "../../src/config.ts";
import { runMarketPipeline } from "../../src/demo/marketPipeline.ts";
import { createLake } from "../../src/lake/index.ts";
import { REDACTED_PATHS, type Logger } from "../../src/logger.ts";
import type { Store } from "../../src/store/index.ts";
import { formatProgress, type BuildPhase, type ProgressListener } from "../../src/site/index.ts";
import { publishBuild, type PublishEffects } from "../publish.ts";
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
  prepare: 0.05,
  vendor: 0.15,
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
    else if (event.kind === "loader") done = Math.min(0.8, PHASE_DONE.vendor + 0.05 * ++loaders);
    else return;
    context.progress(done);
  };
}

export function defaultJobs(
  config: Config,
  store: Store,
  onBuildFinished?: PublishEffects["onFinished"],
): Record<string, Job> {
  return {
    build: async (context) => {
      const result = await publishBuild(config, store, {
        logger: runLogger(context),
        runId: context.run.id,
        onProgress: buildProgressReporter(context),
        ...(onBuildFinished && { onFinished: onBuildFinished }),
      });
      context.log("info", `published build ${result.buildId} in ${result.durationMs} ms`);
    },
    "pipeline:market": async (context) => {
      const result = await runMarketPipeline(createLake(config));
      context.log("info", `curated/prices v${result.curated.version}: ${result.curated.rowCount} rows`);
    },
  };
}
