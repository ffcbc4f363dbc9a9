/**
 * A worker's Prometheus metrics (`lakebook worker --metrics-port`): runs taken from the queue,
 * runs in hand, runs settled here by job and outcome with their durations (the same
 * `lakebook_runs_total` / `lakebook_run_duration_seconds` a server exports for the runs it executes
 * itself), builds, runs the queue gave up on, and the age of the worker's last recorded heartbeat.
 */
import {
  Counter,
  Gauge,
  createRegistry,
  createRunMetrics,
  type Registry,
  type RunMetrics,
} from "../telemetry/index.ts";

export interface WorkerMetrics extends RunMetrics {
  readonly registry: Registry;
  readonly taken: Counter<"retry">;
  readonly active: Gauge;
  readonly givenUp: Counter;
  /** Records that the worker's heartbeat was written now. */
  heartbeatRecorded(): void;
}

export function createWorkerMetrics(now: () => number = Date.now): WorkerMetrics {
  const registry = createRegistry();
  const runMetrics = createRunMetrics(registry);
  let lastBeat: number | undefined;
  const taken = new Counter({
    name: "lakebook_worker_runs_taken_total",
    help: "Runs this worker took from the queue; retry=true for a redelivery (a worker died or handed it back)",
    labelNames: ["retry"] as const,
    registers: [registry],
  });
  const active = new Gauge({
    name: "lakebook_worker_runs_active",
    help: "Runs this worker holds now",
    registers: [registry],
  });
  const givenUp = new Counter({
    name: "lakebook_worker_runs_given_up_total",
    help: "Runs the queue gave up on (retries exhausted) that this worker marked failed",
    registers: [registry],
  });
  new Gauge({
    name: "lakebook_worker_heartbeat_age_seconds",
    help: "Seconds since this worker last recorded its heartbeat in the store (-1 before the first)",
    registers: [registry],
    collect() {
      this.set(lastBeat === undefined ? -1 : (now() - lastBeat) / 1000);
    },
  });
  return {
    ...runMetrics,
    registry,
    taken,
    active,
    givenUp,
    heartbeatRecorded() {
      lastBeat = now();
    },
  };
}
