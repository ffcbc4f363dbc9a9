/**
 * What a job is: a named async function the runner calls for each attempt of a run, in a server
 * (embedded mode) or in a `lakebook worker` (PostgreSQL queue). It lives in src/ so workers, which
 * never import server/, know the same jobs by the same names.
 */
import type { Run } from "../store/index.ts";

export interface JobContext {
  readonly run: Run;
  readonly signal: AbortSignal;
  log(level: "debug" | "info" | "warn" | "error", message: string): void;
  /** Reports progress from 0 to 1. */
  progress(fraction: number): void;
  /**
   * The run goes on in other runs (its steps, fanned out to workers) that settle it: when the job
   * returns, the runner leaves the run as it is instead of marking it succeeded.
   */
  detach(): void;
}

export type Job = (context: JobContext) => Promise<void>;
