/**
 * Runs of a project's selections started over HTTP (`POST /api/runs` with `run:<selection>`),
 * as the Runs page and scripts start them: the server resolves the selection against the
 * project's sources and models, runs the steps in order, logs one line per step and commits
 * each dataset version once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { type Config, normalizeConfig } from "../../src/config.ts";
import { createLake, listVersionNumbers } from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Run } from "../../src/store/index.ts";
import { csvSource, writeProject } from "../project/projectFixture.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let db: TestStore;
let server: RunningServer;
let admin: Session;
let viewer: Session;
let root: string;
let config: Config;

beforeAll(async () => {
  // One project for the whole file (useTempDirs would remove it after the first test).
  root = await mkdtemp(join(tmpdir(), "lakebook-project-runs-"));
  await writeProject(root, {
    "package.json": JSON.stringify({ type: "module" }),
    "q.csv": "ticker,close\nAAA,1.5\nBBB,2.25\n",
    "sources/quotes.ts": csvSource("q.csv", "ticker:VARCHAR,close:DECIMAL(18,4)"),
    "models/staging/quotes.sql": "SELECT ticker, close FROM raw.quotes\n",
    "models/curated/quotes.sql":
      "-- ---\n-- key: [ticker]\n-- ---\nSELECT ticker, close FROM staging.quotes\n",
    "models/curated/broken.sql": "SELECT no_such_column FROM staging.quotes\n",
  });
  db = await openTestStore();
  await addUser(db.store, "ada", "admin");
  await addUser(db.store, "vic", "viewer");
  config = normalizeConfig({
    root,
    lakeDir: join(root, "data/lake"),
    siteDir: join(root, "data/site"),
    port: 0,
  });
  server = await startServer(config, {
    logger: silentLogger,
    store: db.store,
    runs: { pollMs: 50 },
    schedules: false,
  });
  [admin, viewer] = await Promise.all([login(server.url, "ada"), login(server.url, "vic")]);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

const api = (path: string, init: RequestInit = {}) => fetch(server.url + path, init);

async function start(job: string, session = admin): Promise<Response> {
  return api("/api/runs", as(session, { method: "POST", json: { job } }));
}

async function settle(id: string): Promise<Run> {
  for (let i = 0; i < 1200; i++) {
    const run = (await (await api(`/api/runs/${id}`, as(admin))).json()) as Run;
    if (run.finishedAt) return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${id} did not settle`);
}

async function logOf(id: string): Promise<string[]> {
  const body = (await (await api(`/api/runs/${id}/logs`, as(admin))).json()) as {
    lines: { message: string }[];
  };
  return body.lines.map((line) => line.message);
}

describe("POST /api/runs with a project selection", () => {
  it("runs +curated.quotes in dependency order and commits each dataset once", async () => {
    const response = await start("run:+curated.quotes");
    expect(response.status).toBe(202);
    const queued = (await response.json()) as Run;
    expect(queued.job).toBe("run:+curated.quotes");
    const run = await settle(queued.id);
    const log = await logOf(run.id);
    expect(run.status, log.join("\n")).toBe("succeeded");
    const order = ["raw.quotes", "staging.quotes", "curated.quotes"].map((id) =>
      log.findIndex((line) => line.startsWith(`${id} v1 (2 rows)`)),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The broken model is not in the selection: it never ran.
    expect(log.some((line) => line.includes("curated.broken"))).toBe(false);

    const again = await settle(((await (await start("run:+curated.quotes")).json()) as Run).id);
    expect(again.status).toBe("succeeded");
    expect(await logOf(again.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^curated\.quotes v1 \(2 rows\) unchanged$/)]),
    );
    const lake = createLake(config);
    expect(await listVersionNumbers(lake.storage, "curated", "quotes")).toEqual([1]);
  });

  it("fails a run whose model fails, naming the model, and keeps what was committed", async () => {
    const run = await settle(((await (await start("run:curated.broken")).json()) as Run).id);
    expect(run.status).toBe("failed");
    expect(run.error ?? "").toMatch(/curated\.broken/);
    expect((await logOf(run.id)).join("\n")).toMatch(/curated\.broken failed: .*no_such_column/);
    const lake = createLake(config);
    expect(await listVersionNumbers(lake.storage, "curated", "broken")).toEqual([]);
    expect(await listVersionNumbers(lake.storage, "curated", "quotes")).toEqual([1]);
  });

  it("refuses a selection naming nothing in the project, saying what exists", async () => {
    const response = await start("run:curated.nope");
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toMatch(/curated\.nope/);
    expect(error.message).toMatch(/curated\.quotes/);
  });

  it("refuses a schedule whose selection names nothing in the project", async () => {
    const response = await api(
      "/api/schedules",
      as(admin, { method: "POST", json: { name: "typo", job: "run:+curated.quotez", cron: "0 3 * * *" } }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /curated\.quotez.*curated\.quotes/,
    );
  });

  it("refuses a malformed job name with an example", async () => {
    const response = await start("run:+");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/run:/);
  });

  it("lets only operators start runs", async () => {
    expect((await start("run:+curated.quotes", viewer)).status).toBe(403);
  });
});
