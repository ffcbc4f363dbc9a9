/**
 * The run queue: how a run created by a server or a schedule reaches the process that executes it.
 * Two backends behind one interface:
 *
 * - in-process (embedded mode, PGlite): a FIFO inside the server; runs execute where they were
 *   created, as they always did, so the README's two commands need no PostgreSQL.
 * - PostgreSQL (pg-boss, when `DATABASE_URL` is set): servers and schedules only enqueue; any
 *   number of `lakebook worker` processes take runs, keep a heartbeat on the run they hold, and a
 *   run whose worker stops heartbeating (SIGKILL, lost machine) is handed to another worker.
 *
 * A message carries only the run's id (the run record in the store is the truth) and the trace
 * context of the request or schedule tick that created it, so the run's spans join that trace.
 */
import type { Run } from "../store/index.ts";

/** The lease of a run waiting in a queue that is not local, for a worker to take it (a day). */
export const QUEUED_LEASE_MS = 24 * 60 * 60_000;

export interface QueuedRun {
  readonly runId: string;
  readonly job: string;
  /** How long the whole run may take (every attempt, with backoff): bounds the queue's lease. */
  readonly maxDurationMs: number;
  /** W3C trace context (`traceparent`, `tracestate`) of the span that enqueued the run. */
  readonly trace?: Readonly<Record<string, string>>;
  /** In-process only: the run record itself, so it starts without a store round trip. */
  readonly run?: Run;
}

export interface Delivery {
  /** 0 for the first delivery; more when a previous worker died or handed the run back. */
  readonly retry: number;
}

/** Executes one queued run; resolves when done, rejects to have the queue deliver it again. */
export type RunHandler = (message: QueuedRun, delivery: Delivery) => Promise<void>;

/**
 * Told of a run the queue gave up on: its last delivery failed (its worker died, timed out or
 * handed it back) and no retry is left; `deliveries` is how many times it was delivered.
 */
export type GivenUpHandler = (message: QueuedRun, info: { deliveries: number }) => Promise<void>;

export interface QueueDepth {
  /** Waiting to be taken. */
  readonly queued: number;
  /** Held by a worker now. */
  readonly active: number;
}

export interface RunQueue {
  readonly kind: "in-process" | "postgres";
  /** True when runs execute in the process that enqueues them (no worker needed). */
  readonly local: boolean;
  enqueue(message: QueuedRun): Promise<void>;
  /**
   * Starts taking runs, at most `concurrency` at once in this process, and, when `givenUp` is
   * given, the runs the queue gave up on (the in-process queue never gives up).
   */
  work(handler: RunHandler, options: { concurrency: number; givenUp?: GivenUpHandler }): Promise<void>;
  /** Stops taking new runs; resolves once the handlers in progress have returned. */
  stopWorking(): Promise<void>;
  depth(): Promise<QueueDepth>;
  close(): Promise<void>;
}
