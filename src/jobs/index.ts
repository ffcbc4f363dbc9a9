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
export { createFanOut, fanOutSelection, STEP_JOB_PREFIX, type FanOut, type FanOutOptions } from "./fanOut.ts";
