/**
 * The server's job table: the jobs of src/jobs (`build`, `run`, `run:<selection>`, and
 * `pipeline:market` meaning `run`). The definitions live in src/jobs so `lakebook worker` runs the
 * same jobs without importing the server.
 */
import type { Config } from "../../src/config.ts";
import { defaultJobs as jobsOf, type Job } from "../../src/jobs/index.ts";
import type { PublishEffects } from "../../src/site/index.ts";
import type { Store } from "../../src/store/index.ts";

export { buildProgressReporter, runLogger } from "../../src/jobs/index.ts";

export function defaultJobs(
  config: Config,
  store: Store,
  onBuildFinished?: PublishEffects["onFinished"],
): Record<string, Job> {
  return jobsOf(config, store, { ...(onBuildFinished && { onBuildFinished }) });
}
