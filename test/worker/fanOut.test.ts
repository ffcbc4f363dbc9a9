/**
 * A `lakebook run` through the PostgreSQL queue on two `lakebook worker` processes: each step is a
 * run of its own, independent steps run on different workers, a failed step stops only its
 * downstream; a run the queue gives up on is failed at once; a worker's /metrics.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/store/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { csvSource, writeProject } from "../project/projectFixture.ts";
import { openCluster, type Cluster, type ServerSide } from "./cluster.ts";

/** Long enough (~0.5-2 s here) that a second step queued with it goes to the other, idle worker. */
const SLOW = "(SELECT sum(i) FROM range(150000000) AS t(i))";

const PROJECT = {
  "package.json": JSON.stringify({ name: "fan-out-test", private: true, type: "module" }),
  "numbers.csv": "n,label\n1,one\n2,two\n3,three\n",
  "sources/numbers.ts": csvSource("numbers.csv", "n:BIGINT,label:VARCHAR"),
  "models/staging/left.sql": `SELECT n, label, ${SLOW} AS work FROM raw.numbers\n`,
  "models/staging/right.sql": `SELECT n * 10 AS n, label, ${SLOW} AS work FROM raw.numbers\n`,
  // Fails when it runs (no such column): its downstream is skipped, the other branch goes on.
  "models/curated/broken.sql": "SELECT no_such_column FROM staging.left\n",
  "models/curated/after_broken.sql": "SELECT * FROM curated.broken\n",
  "models/curated/right_total.sql": "SELECT sum(n) AS total FROM staging.right\n",
};

describe("lakebook run fanned out to workers", () => {
  let cluster: Cluster;
  let server: ServerSide;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "lakebook-fanout-"));
    await writeProject(root, PROJECT);
    cluster = await openCluster({ LAKEBOOK_ROOT: root, LAKEBOOK_LOG_LEVEL: "warn" });
    server = await cluster.startServerSide();
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it("runs each step as its own run, independent steps on different workers; a failed step stops only its downstream", async () => {
    const workers = [0, 1].map(() => cluster.spawnWorker({ concurrency: 1 }));
    try {
      await fannedOut(await Promise.all(workers.map((w) => w.id)));
    } finally {
      for (const w of workers) w.child.kill("SIGTERM");
    }
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  }, 120_000);

  async function fannedOut(ids: string[]): Promise<void> {
    const parent = (await server.runner.trigger({ job: "run", triggeredBy: "test" }))!;
    const settled = await server.runner.settled(parent.id);
    expect(settled).toMatchObject({
      status: "failed",
      error: "2 step(s) did not complete: curated.broken, curated.after_broken",
      progress: 1,
    });
    const steps = new Map((await server.store.listStepRuns(parent.id)).map((run) => [run.step!, run]));
    const statusOf = (id: string): string | undefined => steps.get(id)?.status;
    expect([...steps.keys()].sort()).toEqual([
      "curated.after_broken",
      "curated.broken",
      "curated.right_total",
      "raw.numbers",
      "staging.left",
      "staging.right",
    ]);
    expect(statusOf("raw.numbers")).toBe("succeeded");
    expect(statusOf("staging.left")).toBe("succeeded");
    expect(statusOf("staging.right")).toBe("succeeded");
    expect(statusOf("curated.right_total")).toBe("succeeded");
    expect(steps.get("curated.broken")).toMatchObject({ status: "failed", job: "step:curated.broken" });
    expect(steps.get("curated.broken")!.error).toContain("no_such_column");
    // Never started: skipped because of its upstream, as `lakebook run` does in-process.
    expect(steps.get("curated.after_broken")).toMatchObject({
      status: "cancelled",
      error: "upstream curated.broken failed",
      workerId: null,
      startedAt: null,
    });
    // The two independent models ran at the same time, each on its own worker.
    const [left, right] = [steps.get("staging.left")!, steps.get("staging.right")!];
    expect(new Set([left.workerId, right.workerId])).toEqual(new Set(ids));
    expect(overlap(left, right)).toBe(true);
    // A step started only after its upstream finished.
    expect(steps.get("staging.left")!.startedAt!.getTime()).toBeGreaterThanOrEqual(
      steps.get("raw.numbers")!.finishedAt!.getTime(),
    );
    // The parent's log lists its steps as they settled, with the worker of each.
    const log = (await server.store.listRunLogs(parent.id)).map((line) => line.message);
    expect(log.some((m) => m.startsWith("6 step(s), each a run on any worker"))).toBe(true);
    expect(log).toContain("curated.after_broken skipped: upstream curated.broken failed");
    expect(log.some((m) => m.startsWith(`staging.right succeeded on ${right.workerId}`))).toBe(true);
  }

  it("serves a worker's Prometheus metrics on --metrics-port", async () => {
    const worker = cluster.spawnWorker({ args: ["--metrics-port", "0"] });
    const url = await worker.metricsUrl;
    const run = (await server.runner.trigger({ job: "bench:short" }))!;
    expect(await server.runner.settled(run.id)).toMatchObject({ status: "succeeded" });
    const text = await eventually(async () => {
      const body = await (await fetch(url)).text();
      return body.includes('lakebook_runs_total{job="bench:short",status="succeeded"} 1') && body;
    }, "the settled run to be counted");
    expect(text).toContain('lakebook_worker_runs_taken_total{retry="false"} 1');
    expect(text).toContain("lakebook_worker_runs_active 0");
    expect(text).toMatch(/lakebook_run_duration_seconds_count\{job="bench:short",status="succeeded"\} 1/);
    const age = Number(/^lakebook_worker_heartbeat_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    expect(text).toContain("process_cpu_seconds_total");
    expect((await fetch(url.replace("/metrics", "/other"))).status).toBe(404);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 60_000);
});

describe("a run the queue gives up on", () => {
  let cluster: Cluster;
  let server: ServerSide;
  beforeAll(async () => {
    cluster = await openCluster({
      LAKEBOOK_QUEUE_RETRY_LIMIT: "0",
      LAKEBOOK_BENCH_SLEEP_MS: "20000",
      LAKEBOOK_LOG_LEVEL: "warn",
    });
    server = await cluster.startServerSide();
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it("is failed with the reason as soon as its last delivery failed, not left queued", async () => {
    // The first worker hands the run back at once when stopped; with no retry left the queue gives up.
    const first = cluster.spawnWorker({ env: { LAKEBOOK_WORKER_STOP_MS: "0" } });
    await first.id;
    const run = (await server.runner.trigger({ job: "bench:sleep", triggeredBy: "test" }))!;
    await eventually(
      async () => (await server.store.maybeRun(run.id))?.status === "running",
      "the run to be under way on the first worker",
      20_000,
    );
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const second = cluster.spawnWorker();
    await second.id;
    const failed = await eventually(async () => {
      const current = await server.store.maybeRun(run.id);
      return current?.finishedAt ? current : undefined;
    }, "the given-up run to be failed");
    expect(failed).toMatchObject({ status: "failed" });
    expect(failed.error).toMatch(/^the queue gave up on this run after 1 deliveries/);
    const log = await eventually(async () => {
      const lines = (await server.store.listRunLogs(run.id)).map((line) => line.message);
      return lines.at(-1) === failed.error && lines;
    }, "the reason to be logged last");
    expect(log).toContain("handed back to the queue: the worker is stopping");
    // No worker ran it again.
    expect(log.filter((m) => m.startsWith("attempt "))).toHaveLength(1);
    second.child.kill("SIGTERM");
    await second.exited;
  }, 60_000);
});

function overlap(a: Run, b: Run): boolean {
  return a.startedAt! < b.finishedAt! && b.startedAt! < a.finishedAt!;
}
