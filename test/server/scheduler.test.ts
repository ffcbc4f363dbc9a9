import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, servicesOf } from "../../server/index.ts";
import { scheduledTick } from "../../server/runs/scheduler.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Store } from "../../src/store/index.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;
let other: Store;
const jobs = {
  noop: async () => undefined,
  slow: ({ signal }: { signal: AbortSignal }) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 30_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    }),
};

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
  other = await db.second();
});

afterAll(async () => {
  await db?.drop();
  await fixture?.cleanup();
});

/** Two server processes sharing one PostgreSQL, each with its own pool and scheduler. */
function twoServers() {
  const options = { logger: silentLogger, jobs, runs: { pollMs: 50 } };
  return [
    servicesOf(createApp(fixture.config, { ...options, store: db.store })),
    servicesOf(createApp(fixture.config, { ...options, store: other })),
  ] as const;
}

describe("scheduler", () => {
  it("names a tick by its scheduled time, whenever the timer fired", () => {
    expect(scheduledTick("0 3 * * *", new Date("2026-01-01T03:00:00.400Z"))).toBe("2026-01-01T03:00:00.000Z");
    expect(scheduledTick("0 3 * * *", new Date("2026-01-01T02:59:59.700Z"))).toBe("2026-01-01T03:00:00.000Z");
    expect(scheduledTick("*/5 * * * * *", new Date("2026-01-01T00:00:07.000Z"))).toBe(
      "2026-01-01T00:00:05.000Z",
    );
  });

  it("starts one run per tick when two servers fire the same tick", async () => {
    const schedule = await db.store.addSchedule({
      name: "race",
      job: "noop",
      cron: "0 3 * * *",
      enabled: false,
    });
    const [a, b] = twoServers();
    try {
      const firedAt = new Date("2026-02-01T03:00:00.010Z");
      const results = await Promise.all([
        a.scheduler!.fire(schedule, firedAt),
        b.scheduler!.fire(schedule, new Date(firedAt.getTime() + 15)),
        a.scheduler!.fire(schedule, firedAt),
        b.scheduler!.fire(schedule, firedAt),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await Promise.all([a.shutdown(5000), b.shutdown(5000)]);
    }
  });

  it("runs a every-second cron schedule once per tick across two servers", async () => {
    const schedule = await db.store.addSchedule({ name: "every second", job: "noop", cron: "* * * * * *" });
    const [a, b] = twoServers();
    try {
      await Promise.all([a.scheduler!.sync(), b.scheduler!.sync()]);
      await new Promise((resolve) => setTimeout(resolve, 2600));
      await db.store.updateSchedule(schedule.id, { enabled: false });
      await Promise.all([a.scheduler!.sync(), b.scheduler!.sync()]);
    } finally {
      await Promise.all([a.shutdown(5000), b.shutdown(5000)]);
    }
    const runs = (await db.store.listRuns({ limit: 100 })).filter((run) => run.scheduleId === schedule.id);
    const ticks = runs.map((run) => run.tick);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(
      runs.every((run) => run.status === "succeeded" && run.triggeredBy === "schedule:every second"),
    ).toBe(true);
  });

  it("cancels a run that executes on another server", async () => {
    const [a, b] = twoServers();
    try {
      const run = (await a.runner!.trigger({ job: "slow" }))!;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await b.runner!.cancel(run.id, "ada"))?.cancelRequested).toBe(true);
      const settled = await a.runner!.settled(run.id);
      expect(settled).toMatchObject({ status: "cancelled", error: "cancelled" });
    } finally {
      await Promise.all([a.shutdown(5000), b.shutdown(5000)]);
    }
  });
});
