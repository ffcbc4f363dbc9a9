/**
 * The server's job table: the jobs of src/jobs with this server's publishing. The definitions live
 * in src/jobs so `lakebook worker` runs the same jobs without importing the server.
 */
import type { Config } from "../../src/config.ts";
import { defaultJobs as jobsOf, type Job } from "../../src/jobs/index.ts";
import type { Store } from "../../src/store/index.ts";
import { publishBuild, type PublishEffects } from "../publish.ts";

export { runLogger } from "../../src/jobs/index.ts";

export function defaultJobs(
  config: Config,
  store: Store,
  onBuildFinished?: PublishEffects["onFinished"],
): Record<string, Job> {
  return jobsOf(config, store, { publishBuild, ...(onBuildFinished && { onBuildFinished }) });
}
