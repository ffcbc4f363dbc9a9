import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, servicesOf } from "../../server/index.ts";
import { syncConfigSchedules } from "../../server/runs/configSchedules.ts";
import { normalizeConfig } from "../../src/config.ts";
import { createLake, listVersionNumbers } from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { loadProjectConfig, normalizeProjectConfig } from "../../src/project/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { eventually } from "../helpers/eventually.ts";
import { csvSource, writeProject } from "../project/projectFixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

const tempDir = useTempDirs();
let db: TestStore;

beforeAll(async () => {
  db = await openTestStore();
});
afterAll(async () => {
  await db?.drop();
});

describe("schedules from the project config", () => {
  it("are stored once as config:<name>, follow the file, and leave API schedules alone", async () => {
    const made = await db.store.addSchedule({ name: "by hand", job: "build", cron: "0 4 * * *" });
    const first = normalizeProjectConfig({
      schedules: [
        { name: "nightly", cron: "0 3 * * *", run: "+curated.prices", build: true },
        { name: "hourly", cron: "0 * * * *", run: "" },
      ],
    });
    const other = await db.second();
    await Promise.all([
      syncConfigSchedules(db.store, first.schedules, silentLogger),
      syncConfigSchedules(other, first.schedules, silentLogger),
    ]);
    const stored = async () =>
      Object.fromEntries((await db.store.listSchedules()).map((s) => [s.name, { job: s.job, cron: s.cron }]));
    expect(await stored()).toEqual({
      "by hand": { job: "build", cron: "0 4 * * *" },
      "config:nightly": { job: "run:+curated.prices;build", cron: "0 3 * * *" },
      "config:hourly": { job: "run", cron: "0 * * * *" },
    });
    const second = normalizeProjectConfig({
      schedules: [{ name: "nightly", cron: "30 3 * * *", job: "build" }],
    });
    await syncConfigSchedules(db.store, second.schedules, silentLogger);
    expect(await stored()).toEqual({
      "by hand": { job: "build", cron: "0 4 * * *" },
      "config:nightly": { job: "build", cron: "30 3 * * *" },
    });
    await db.store.removeSchedule(made.id);
    await syncConfigSchedules(db.store, [], silentLogger);
    expect(await stored()).toEqual({});
  });

  it("a config schedule runs its selection once per tick across two servers", async () => {
    const root = await tempDir();
    await writeProject(root, {
      "package.json": JSON.stringify({ type: "module" }),
      "q.csv": "ticker,close\nAAA,1.5\n",
      "sources/quotes.ts": csvSource("q.csv", "ticker:VARCHAR,close:DECIMAL(18,4)"),
      "models/staging/quotes.sql": "SELECT ticker, close FROM raw.quotes\n",
      "lakebook.config.ts": `export default { schedules: [{ name: "often", cron: "*/2 * * * * *", run: "+staging.quotes" }] };\n`,
    });
    expect((await loadProjectConfig(root)).schedules).toHaveLength(1);
    const config = normalizeConfig({
      root,
      lakeDir: join(root, "data/lake"),
      siteDir: join(root, "data/site"),
      port: 0,
    });
    const other = await db.second();
    const options = { logger: silentLogger, runs: { pollMs: 50 } };
    const servers = [
      servicesOf(createApp(config, { ...options, store: db.store })),
      servicesOf(createApp(config, { ...options, store: other })),
    ];
    let scheduleId = "";
    try {
      // Each server stores the config's schedules when it starts, then arms them.
      scheduleId = await eventually(
        async () => (await db.store.listSchedules()).find((s) => s.name === "config:often")?.id,
        "the config schedule to be stored",
      );
      await eventually(
        async () => {
          const runs = (await db.store.listRuns({ limit: 100 })).filter((r) => r.scheduleId === scheduleId);
          return runs.filter((r) => r.status === "succeeded").length >= 2;
        },
        "two scheduled runs to succeed",
        45_000,
      );
      await db.store.updateSchedule(scheduleId, { enabled: false });
      await Promise.all(servers.map((s) => s.scheduler!.sync()));
      // A run of any selection, as the API starts one: each step is a line of the run's log.
      const manual = (await servers[0]!.runner!.trigger({ job: "run:raw.quotes+" }))!;
      expect(await servers[0]!.runner!.settled(manual.id)).toMatchObject({ status: "succeeded" });
      const log = (await db.store.listRunLogs(manual.id)).map((line) => line.message);
      expect(log).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^raw\.quotes v1 \(1 rows\) unchanged$/),
          expect.stringMatching(/^staging\.quotes v1 \(1 rows\) unchanged$/),
        ]),
      );
    } finally {
      await Promise.all(servers.map((s) => s.shutdown(30_000)));
    }
    const runs = (await db.store.listRuns({ limit: 100 })).filter((r) => r.scheduleId === scheduleId);
    const ticks = runs.map((r) => r.tick);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(
      runs.every((r) => r.job === "run:+staging.quotes" && r.triggeredBy === "schedule:config:often"),
    ).toBe(true);
    const lake = createLake(config);
    // Every run after the first found the data unchanged: one version each.
    expect(await listVersionNumbers(lake.storage, "staging", "quotes")).toEqual([1]);
    expect(await listVersionNumbers(lake.storage, "raw", "quotes")).toEqual([1]);
  });
});
