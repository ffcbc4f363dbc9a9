/**
 * Workers at the scale of a deployment: two servers and two workers sharing one schedule (one run
 * per tick), and a worker SIGKILLed in the middle of a real lake pipeline (no partial version).
 */
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLake,
  listDatasets,
  listVersionNumbers,
  readManifest,
  verifyVersion,
} from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { createScheduler } from "../../server/runs/scheduler.ts";
import { eventually } from "../helpers/eventually.ts";
import { openCluster, type Cluster } from "./cluster.ts";

describe("workers in a cluster", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await openCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it("two servers and two workers with one schedule: one run per tick, each on a worker", async () => {
    const [a, b] = [await cluster.startServerSide(), await cluster.startServerSide()];
    const workers = [cluster.spawnWorker(), cluster.spawnWorker()];
    const workerIds = await Promise.all(workers.map((w) => w.id));
    await a.store.addSchedule({ name: "every-2s", job: "bench:short", cron: "*/2 * * * * *" });
    const schedulers = [a, b].map((side) =>
      createScheduler({ store: side.store, runner: side.runner, logger: silentLogger }),
    );
    await Promise.all(schedulers.map((s) => s.sync()));
    const runs = await eventually(
      async () => {
        const all = await a.store.listRuns({ job: "bench:short" });
        return new Set(all.map((run) => run.tick)).size >= 4 && all;
      },
      "four ticks",
      30_000,
    );
    for (const s of schedulers) s.stop();
    const settled = await Promise.all(runs.map((run) => a.runner.settled(run.id)));
    const ticks = settled.map((run) => run!.tick);
    expect(new Set(ticks).size).toBe(ticks.length);
    for (const run of settled) {
      expect(run).toMatchObject({ status: "succeeded" });
      expect(workerIds).toContain(run!.workerId);
    }
    for (const w of workers) w.child.kill("SIGTERM");
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  }, 90_000);

  it("a worker SIGKILLed during the market pipeline: another finishes its step, and every version is whole", async () => {
    const server = await cluster.startServerSide();
    const first = cluster.spawnWorker();
    const firstId = await first.id;
    const run = (await server.runner.trigger({ job: "pipeline:market" }))!;
    await eventually(
      async () => (await server.store.maybeRun(run.id))?.workerId === firstId,
      "claimed",
      20_000,
    );
    // Killed as soon as the pipeline has written anything into the lake.
    const lakeDir = cluster.config.lakeDir;
    await eventually(async () => (await readdir(lakeDir).catch(() => [])).length > 0, "lake writes", 30_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = cluster.spawnWorker();
    const secondId = await second.id;
    // The run is fanned out (one step run per source and model): the step the first worker was
    // killed in is finished by the second, and every step succeeded.
    expect(await server.runner.settled(run.id)).toMatchObject({ status: "succeeded" });
    const steps = await server.store.listStepRuns(run.id);
    expect(steps.length).toBeGreaterThan(1);
    expect(steps.filter((step) => step.status !== "succeeded")).toEqual([]);
    expect(steps.some((step) => step.workerId === secondId)).toBe(true);
    const lake = createLake(cluster.config);
    for (const zone of ["raw", "staging", "curated"] as const) {
      for (const dataset of await listDatasets(lake.storage, zone)) {
        for (const version of await listVersionNumbers(lake.storage, zone, dataset)) {
          const manifest = await readManifest(lake.storage, zone, dataset, version);
          expect(await verifyVersion(lake.storage, manifest), `${zone}/${dataset} v${version}`).toEqual([]);
        }
      }
    }
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 120_000);
});
