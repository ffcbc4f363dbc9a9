export type { Job, JobContext } from "./job.ts";
export { runLogger } from "./runLogger.ts";
export {
  buildProgressReporter,
  defaultJobs,
  withJobs,
  type BuildOutcome,
  type JobDependencies,
  type PublishBuild,
} from "./defaultJobs.ts";
