export type { Job, JobContext } from "./job.ts";
export { runLogger } from "./runLogger.ts";
export { defaultJobs, type BuildOutcome, type JobDependencies, type PublishBuild } from "./defaultJobs.ts";
