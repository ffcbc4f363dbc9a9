/**
 * `lakebook worker` processes on the PostgreSQL queue, with real faults: a worker SIGKILLed
 * mid-run, SIGTERM (finish, or hand back), PostgreSQL connections cut and restored.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.ts";
import { createApp, servicesOf } from "../../server/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { openCluster, type Cluster, type ServerSide } from "./cluster.ts";

describe("lakebook worker", () => {
  let cluster: Cluster;
  let server: ServerSide;
  beforeAll(async () => {
    cluster = await openCluster({ LAKEBOOK_BENCH_SLEEP_MS: "4000" });
    server = await cluster.startServerSide();
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it("executes a run the server only enqueued, and records which worker ran it and its heartbeat", async () => {
    const worker = cluster.spawnWorker({ concurrency: 2 });
    const workerId = await worker.id;
    const run = (await server.runner.trigger({ job: "bench:short", triggeredBy: "test" }))!;
    expect(server.runner.activeCount()).toBe(0);
    const done = await server.runner.settled(run.id);
    expect(done).toMatchObject({ status: "succeeded", workerId, attempt: 1 });
    const workers = await server.store.listWorkers();
    expect(workers.find((w) => w.id === workerId)).toMatchObject({ concurrency: 2, stoppedAt: null });
    // The Runs page names the worker of each run, and lists the workers with their heartbeat.
    const app = createApp(cluster.config, {
      store: server.store,
      queue: server.queue,
      logger: silentLogger,
      schedules: false,
    });
    const http = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => http.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      const page = await (await fetch(`${base}/runs`)).text();
      expect(page).toContain(`<td>${workerId}</td><td>alive</td><td>0/2</td>`);
      expect(page).toMatch(new RegExp(`id="run-${run.id}".*<td>${workerId}</td>`));
      const api = (await (await fetch(`${base}/api/workers`)).json()) as { workers: { id: string }[] };
      expect(api.workers.map((w) => w.id)).toContain(workerId);
    } finally {
      await servicesOf(app).shutdown(1000);
      await new Promise((resolve) => http.close(resolve));
    }
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect((await server.store.listWorkers()).find((w) => w.id === workerId)?.stoppedAt).toBeInstanceOf(Date);
  }, 60_000);

  it("SIGKILL mid-run: the run is retried on another worker once the lease expires, and completes once", async () => {
    const first = cluster.spawnWorker();
    const firstId = await first.id;
    const run = (await server.runner.trigger({ job: "bench:sleep", triggeredBy: "test" }))!;
    await eventually(
      async () =>
        (await server.store.listRunLogs(run.id)).some((line) => line.message.startsWith("sleeping: 1000")),
      "the run to be under way on the first worker",
      20_000,
    );
    expect((await server.store.maybeRun(run.id))?.workerId).toBe(firstId);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = cluster.spawnWorker();
    const secondId = await second.id;
    const done = await server.runner.settled(run.id);
    expect(done).toMatchObject({ status: "succeeded", workerId: secondId });
    const messages = (await server.store.listRunLogs(run.id)).map((line) => line.message);
    expect(messages).toContain(`resumed by worker ${secondId} at attempt 1`);
    // Completed once: one "slept" line, and the queue delivered the message twice, completed once.
    expect(messages.filter((m) => m.startsWith("slept "))).toHaveLength(1);
    const jobs = (await cluster.queueJobs()).filter((job) => job.data.runId === run.id);
    expect(jobs).toEqual([expect.objectContaining({ state: "completed", retry_count: 1 })]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 90_000);

  it("SIGTERM: a worker finishes the run in hand, or hands it back to another worker after its stop timeout", async () => {
    const patient = cluster.spawnWorker();
    await patient.id;
    const finished = (await server.runner.trigger({ job: "bench:sleep" }))!;
    await eventually(
      async () => (await server.store.maybeRun(finished.id))?.status === "running",
      "running",
      20_000,
    );
    patient.child.kill("SIGTERM");
    expect(await patient.exited).toBe(0);
    expect(await server.store.maybeRun(finished.id)).toMatchObject({ status: "succeeded" });

    const hasty = cluster.spawnWorker({ env: { LAKEBOOK_WORKER_STOP_MS: "300" } });
    const hastyId = await hasty.id;
    const handed = (await server.runner.trigger({ job: "bench:sleep" }))!;
    await eventually(
      async () => (await server.store.maybeRun(handed.id))?.workerId === hastyId,
      "claimed",
      20_000,
    );
    hasty.child.kill("SIGTERM");
    expect(await hasty.exited).toBe(0);
    expect(await server.store.maybeRun(handed.id)).toMatchObject({ status: "queued", finishedAt: null });
    const next = cluster.spawnWorker();
    const nextId = await next.id;
    expect(await server.runner.settled(handed.id)).toMatchObject({ status: "succeeded", workerId: nextId });
    const messages = (await server.store.listRunLogs(handed.id)).map((line) => line.message);
    expect(messages.some((m) => m.includes("handed back"))).toBe(true);
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  }, 90_000);

  it("PostgreSQL cut mid-run and restored: the worker and the server reconnect and carry on", async () => {
    const worker = cluster.spawnWorker();
    const workerId = await worker.id;
    const run = (await server.runner.trigger({ job: "bench:sleep" }))!;
    await eventually(
      async () => (await server.store.maybeRun(run.id))?.status === "running",
      "running",
      20_000,
    );
    const before = cluster.proxy.connections();
    cluster.proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    cluster.proxy.restore();
    expect(await server.runner.settled(run.id)).toMatchObject({ status: "succeeded", workerId });
    expect(cluster.proxy.connections()).toBeGreaterThan(before);
    // And the next run goes through as usual.
    const after = (await server.runner.trigger({ job: "bench:short" }))!;
    expect(await server.runner.settled(after.id)).toMatchObject({ status: "succeeded", workerId });
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 90_000);
});
