/**
 * The jobs a run or a schedule can name. `build` rebuilds and publishes the site (recorded as a
 * build); `pipeline:market` runs the demo market pipeline. Their log lines go to the run.
 *
 * Publishing with records lives beside the server (server/publish.ts), so the caller hands it in:
 * the server passes its own, and `lakebook worker` the one the CLI reaches through server/index.ts.
 */
import type { Config } from "../config.ts";
import { runMarketPipeline } from "../demo/marketPipeline.ts";
import { createLake } from "../lake/index.ts";
import type { Logger } from "../logger.ts";
import type { Store } from "../store/index.ts";
import { withSpan } from "../telemetry/index.ts";
import type { Job } from "./job.ts";
import { runLogger } from "./runLogger.ts";

export interface BuildOutcome {
  readonly status: "succeeded" | "failed";
  readonly durationMs: number;
}

/** Builds and publishes the site, recording the build (server/publish.ts's `publishBuild`). */
export type PublishBuild = (
  config: Config,
  store: Store,
  effects: { logger: Logger; runId: string; onFinished?: (outcome: BuildOutcome) => void },
) => Promise<{ buildId: string; durationMs: number }>;

export interface JobDependencies {
  readonly publishBuild: PublishBuild;
  /** Called with each build's duration and outcome (metrics). */
  readonly onBuildFinished?: (outcome: BuildOutcome) => void;
}

export function defaultJobs(config: Config, store: Store, deps: JobDependencies): Record<string, Job> {
  return {
    build: async (context) => {
      const result = await withSpan("build", { "lakebook.run.id": context.run.id }, () =>
        deps.publishBuild(config, store, {
          logger: runLogger(context),
          runId: context.run.id,
          ...(deps.onBuildFinished && { onFinished: deps.onBuildFinished }),
        }),
      );
      context.log("info", `published build ${result.buildId} in ${result.durationMs} ms`);
    },
    "pipeline:market": async (context) => {
      const result = await withSpan("pipeline market", {}, () => runMarketPipeline(createLake(config)));
      context.log("info", `curated/prices v${result.curated.version}: ${result.curated.rowCount} rows`);
    },
  };
}
