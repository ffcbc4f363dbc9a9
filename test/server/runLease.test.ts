/**
 * A run (and the build it records) whose process is killed does not stay "running": its lease
 * stops being renewed, and once it expires, listing runs or starting a server marks it failed
 * as abandoned. While the process lives, its lease keeps moving and nothing is recovered.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { ABANDONED_ERROR } from "../../src/store/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

const LEASE_MS = 2000;
let db: TestStore;
let fixture: Fixture;
let child: ChildProcess | undefined;

beforeAll(async () => {
  [db, fixture] = await Promise.all([openTestStore(), createFixture()]);
});

afterAll(async () => {
  child?.kill("SIGKILL");
  await db?.drop();
  await fixture?.cleanup();
});

/** Starts the child and waits for the ids of the run and build it works on. */
async function startChild(): Promise<{ runId: string; buildId: string }> {
  child = spawn(
    process.execPath,
    ["--import", "tsx", "test/helpers/leasedRunChild.ts", db.schema, String(LEASE_MS)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return JSON.parse(line) as { runId: string; buildId: string };
  throw new Error("the child exited before starting its run");
}

describe("a killed process's run and build", () => {
  it("stay running while their process renews the lease, and are failed as abandoned once it is killed", async () => {
    const { store } = db;
    const { runId, buildId } = await startChild();
    const first = (await store.maybeRun(runId))!;
    expect(first.status).toBe("running");
    const firstLease = first.leaseUntil!.getTime();
    // Renewed after the first lease ran out: the process is alive, so listing recovers nothing.
    await eventually(
      async () => (await store.maybeRun(runId))!.leaseUntil!.getTime() > firstLease + LEASE_MS,
      "a lease renewed past the first one",
    );
    expect((await store.listRuns()).find((run) => run.id === runId)?.status).toBe("running");
    expect((await store.listBuilds()).find((build) => build.id === buildId)?.status).toBe("running");

    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child!.kill("SIGKILL");
    await exited;
    // Nothing renews it now: once the lease is over, a server starting up recovers it...
    const lastLease = (await store.maybeRun(runId))!.leaseUntil!.getTime();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastLease - Date.now() + 100)));
    const server = await startServer(fixture.config, { logger: silentLogger, store, schedules: false });
    try {
      const run = await eventually(async () => {
        const current = await store.maybeRun(runId);
        return current?.status === "failed" && current;
      }, "the server start-up to fail the abandoned run");
      expect(run).toMatchObject({ error: ABANDONED_ERROR, finishedAt: expect.any(Date) });
      expect(await store.maybeBuild(buildId)).toMatchObject({ status: "failed", error: ABANDONED_ERROR });
    } finally {
      await server.close();
    }
  });

  it("is failed by the next listing, without a server start", async () => {
    const { store } = db;
    const { runId, buildId } = await startChild();
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child!.kill("SIGKILL");
    await exited;
    const run = await eventually(
      async () => (await store.listRuns()).find((r) => r.id === runId && r.status === "failed"),
      "a listing to fail the abandoned run",
    );
    expect(run.error).toBe(ABANDONED_ERROR);
    // The build's lease was taken and renewed a little later than the run's.
    const build = await eventually(
      async () => (await store.listBuilds()).find((b) => b.id === buildId && b.status === "failed"),
      "a listing to fail the abandoned build",
    );
    expect(build.error).toBe(ABANDONED_ERROR);
  });
});
