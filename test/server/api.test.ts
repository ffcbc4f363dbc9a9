import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import express from "express";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument, openApiPath } from "../../server/api/openapi.ts";
import { createApp, startServer, type RunningServer } from "../../server/index.ts";
import type { Job } from "../../server/runs/runner.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Run } from "../../src/store/index.ts";
import { BUILD_1, createFixture, type Fixture } from "./fixture.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;
let server: RunningServer;
let admin: Session;
let viewer: Session;
let alerts: unknown[] = [];
let receiver: ReturnType<ReturnType<typeof express>["listen"]>;
let receiverUrl: string;
let flakyCalls = 0;

const jobs: Record<string, Job> = {
  noop: async ({ log }) => log("info", "nothing to do"),
  steps: async ({ log, progress }) => {
    for (let i = 1; i <= 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      log("info", `step ${i} of 3`);
      progress(i / 3);
    }
  },
  flaky: async () => {
    flakyCalls += 1;
    if (flakyCalls === 1) throw new Error("source not reachable (first try)");
  },
  fail: async ({ log }) => {
    log("warn", "about to fail; password=hunter2 must not matter");
    throw new Error("quality gate failed for curated/prices");
  },
  slow: ({ signal }) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 30_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
  short: () => new Promise((resolve) => setTimeout(resolve, 400)),
};

const MANIFEST = {
  formatVersion: 1,
  zone: "curated",
  dataset: "sales",
  version: 1,
  parent: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  writeId: "w1",
  schema: [{ name: "id", type: "BIGINT" }],
  rowCount: 20000,
  bytes: 1234,
  files: [],
  rejects: { count: 0, key: null },
  lineage: { inputs: [], landing: [] },
  sourceRun: null,
  quality: null,
};

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write("lake/curated/sales/_versions/00000001.json", JSON.stringify(MANIFEST));
  await fixture.write(
    "lake/curated/sales/_versions/00000002.json",
    JSON.stringify({ ...MANIFEST, version: 2, parent: 1 }),
  );
  db = await openTestStore();
  await addUser(db.store, "ada", "admin");
  await addUser(db.store, "vic", "viewer");
  const app = express();
  app.use(express.json());
  app.post("/hook", (req, res) => {
    alerts.push(req.body);
    res.status(204).end();
  });
  receiver = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => receiver.once("listening", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  server = await startServer(fixture.config, {
    logger: silentLogger,
    store: db.store,
    jobs,
    runs: { backoffMs: 20, pollMs: 50 },
    schedules: false,
  });
  [admin, viewer] = await Promise.all([login(server.url, "ada"), login(server.url, "vic")]);
});

afterAll(async () => {
  await server?.close();
  receiver?.close();
  await db?.drop();
  await fixture?.cleanup();
});

const api = (path: string, init: RequestInit = {}) => fetch(server.url + path, init);

async function settle(run: Run): Promise<Run> {
  for (let i = 0; i < 200; i++) {
    const current = (await (await api(`/api/runs/${run.id}`, as(admin))).json()) as Run;
    if (current.finishedAt) return current;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`run ${run.id} did not settle`);
}

async function trigger(job: string, extra: object = {}): Promise<Run> {
  const response = await api("/api/runs", as(admin, { method: "POST", json: { job, ...extra } }));
  expect(response.status).toBe(202);
  return (await response.json()) as Run;
}

describe("OpenAPI", () => {
  it("serves a 3.1 document whose operations are exactly the registered routes", async () => {
    const doc = (await (await api("/api/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    const app = createApp(fixture.config, { logger: silentLogger });
    const apiLayer = (
      app.router as unknown as {
        stack: { name: string; handle: { stack?: unknown[] }; matchers?: unknown }[];
      }
    ).stack.find(
      (layer) =>
        layer.name === "router" &&
        Array.isArray(layer.handle.stack) &&
        (layer.handle.stack as { route?: { path: string } }[]).some((l) => l.route?.path === "/session"),
    )!;
    const registered = (
      apiLayer.handle.stack as { route?: { path: string; methods: Record<string, boolean> } }[]
    )
      .filter((layer) => layer.route)
      .flatMap((layer) =>
        Object.keys(layer.route!.methods)
          .filter((m) => m !== "_all")
          .map((m) => `${m} ${openApiPath(layer.route!.path)}`),
      )
      .sort();
    expect(registered).toEqual(documented);
    expect(JSON.stringify(openApiDocument())).not.toContain("undefined");
  });
});

describe("datasets and versions", () => {
  it("lists curated datasets with their head and versions newest first", async () => {
    const list = (await (await api("/api/datasets", as(viewer))).json()) as {
      datasets: { dataset: string; version: number }[];
    };
    expect(list.datasets).toEqual([
      expect.objectContaining({ dataset: "sales", version: 2, rowCount: 20000 }),
    ]);
    const versions = (await (await api("/api/datasets/curated/sales/versions", as(viewer))).json()) as {
      versions: { version: number }[];
    };
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    const manifest = (await (await api("/api/datasets/curated/sales/versions/1", as(viewer))).json()) as {
      version: number;
    };
    expect(manifest.version).toBe(1);
    expect((await api("/api/datasets/curated/sales/versions/9", as(viewer))).status).toBe(404);
    expect((await api("/api/datasets/curated/nothing/versions", as(viewer))).status).toBe(404);
    expect((await api("/api/datasets?zone=raw", as(viewer))).status).toBe(403);
    expect((await api("/api/datasets?zone=raw", as(admin))).status).toBe(200);
  });
});

describe("runs", () => {
  it("runs a job, records its log lines and progress", async () => {
    const run = await settle(await trigger("steps"));
    expect(run).toMatchObject({ status: "succeeded", attempt: 1, progress: 1, triggeredBy: "ada" });
    const { lines } = (await (await api(`/api/runs/${run.id}/logs`, as(admin))).json()) as {
      lines: { message: string }[];
    };
    expect(lines.map((l) => l.message)).toEqual([
      "attempt 1 of 1: steps",
      "step 1 of 3",
      "step 2 of 3",
      "step 3 of 3",
    ]);
    const history = (await (await api("/api/runs?job=steps", as(admin))).json()) as { runs: Run[] };
    expect(history.runs.map((r) => r.id)).toContain(run.id);
  });

  it("retries a failed attempt with backoff and succeeds", async () => {
    const run = await settle(await trigger("flaky", { retries: 2 }));
    expect(run).toMatchObject({ status: "succeeded", attempt: 2, maxAttempts: 3 });
    const { lines } = (await (await api(`/api/runs/${run.id}/logs`, as(admin))).json()) as {
      lines: { message: string }[];
    };
    expect(lines.map((l) => l.message)).toContain("retrying in 20 ms");
  });

  it("times out a run that takes too long", async () => {
    const run = await settle(await trigger("slow", { timeoutMs: 1000 }));
    expect(run).toMatchObject({ status: "timed_out", error: "timed out after 1000 ms" });
  });

  it("cancels a running run", async () => {
    const run = await trigger("slow");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelled = await api(`/api/runs/${run.id}/cancel`, as(admin, { method: "POST", json: {} }));
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as Run).status).toBe("cancelled");
    expect(
      (await api("/api/runs/r-000000000-00000000/cancel", as(admin, { method: "POST", json: {} }))).status,
    ).toBe(404);
  });

  it("alerts the webhook of a schedule whose run failed, after its retries", async () => {
    alerts = [];
    const created = await api(
      "/api/schedules",
      as(admin, {
        method: "POST",
        json: { name: "nightly fail", job: "fail", cron: "0 3 * * *", retries: 1, alertUrl: receiverUrl },
      }),
    );
    expect(created.status).toBe(201);
    const schedule = (await created.json()) as { id: string };
    const triggered = await api(
      `/api/schedules/${schedule.id}/trigger`,
      as(admin, { method: "POST", json: {} }),
    );
    expect(triggered.status).toBe(202);
    const run = await settle((await triggered.json()) as Run);
    expect(run).toMatchObject({
      status: "failed",
      attempt: 2,
      error: "quality gate failed for curated/prices",
    });
    for (let i = 0; i < 100 && alerts.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alerts).toEqual([
      expect.objectContaining({
        event: "run.failed",
        run: expect.objectContaining({ id: run.id, status: "failed", scheduleId: schedule.id }),
      }),
    ]);
    const shown = (await (await api(`/api/schedules/${schedule.id}`, as(admin))).json()) as { runs: Run[] };
    expect(shown.runs.map((r) => r.status)).toEqual(["failed"]);
  });

  it("refuses an unknown job with what to use instead", async () => {
    const response = await api("/api/runs", as(admin, { method: "POST", json: { job: "nope" } }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /unknown job 'nope': use one of noop, steps/,
    );
  });

  it("streams run changes and log lines as Server-Sent Events", async () => {
    const controller = new AbortController();
    const response = await api("/api/runs/events", { ...as(admin), signal: controller.signal });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = response.body!.getReader();
    const run = await trigger("steps");
    let text = "";
    const decoder = new TextDecoder();
    while (!text.includes('"status":"succeeded"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toContain("event: run");
    expect(text).toContain(`"id":"${run.id}"`);
    expect(text).toMatch(/event: log\ndata: .*"message":"step 2 of 3"/);
  });

  it("renders the Runs page with its live script allowed by hash", async () => {
    const response = await api("/runs", as(admin));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toMatch(/script-src 'sha256-/);
    const html = await response.text();
    expect(html).toContain('new EventSource("/api/runs/events")');
    expect(html).toContain("<td>steps</td>");
    expect((await api("/runs", as(viewer))).status).toBe(403);
  });
});

describe("schedules", () => {
  it("validates, creates, changes and deletes a schedule", async () => {
    const bad = await api(
      "/api/schedules",
      as(admin, { method: "POST", json: { name: "x", job: "noop", cron: "61 * * * * *" } }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /invalid cron pattern/,
    );
    const created = (await (
      await api(
        "/api/schedules",
        as(admin, { method: "POST", json: { name: "hourly", job: "noop", cron: "0 * * * *" } }),
      )
    ).json()) as { id: string };
    const dup = await api(
      "/api/schedules",
      as(admin, { method: "POST", json: { name: "hourly", job: "noop", cron: "0 * * * *" } }),
    );
    expect(dup.status).toBe(409);
    const patched = await api(
      `/api/schedules/${created.id}`,
      as(admin, { method: "PATCH", json: { enabled: false } }),
    );
    expect(((await patched.json()) as { enabled: boolean }).enabled).toBe(false);
    expect((await api(`/api/schedules/${created.id}`, as(admin, { method: "DELETE" }))).status).toBe(204);
    expect((await api(`/api/schedules/${created.id}`, as(admin))).status).toBe(404);
  });
});

describe("builds", () => {
  it("reports the live build and lists kept and recorded builds", async () => {
    const current = (await (await api("/api/builds/current", as(viewer))).json()) as { id: string };
    expect(current.id).toBe(BUILD_1);
    const { builds } = (await (await api("/api/builds", as(viewer))).json()) as { builds: unknown[] };
    expect(Array.isArray(builds)).toBe(true);
  });

  it("rolls back to the previous kept build, and refuses when there is none", async () => {
    const siteDir = join(fixture.root, "site2");
    for (const id of ["20260101T000000000Z-aaaaaa", "20260102T000000000Z-bbbbbb"]) {
      await mkdir(join(siteDir, "builds", id), { recursive: true });
      await writeFile(join(siteDir, "builds", id, "index.html"), `<html><body>${id}</body></html>`);
    }
    await symlink("builds/20260102T000000000Z-bbbbbb", join(siteDir, "current"));
    const own = await startServer(
      { ...fixture.config, siteDir },
      { logger: silentLogger, store: db.store, jobs, schedules: false },
    );
    try {
      const session = await login(own.url, "ada");
      // Pages of published builds are answered from memory: validators, 304 and HEAD still hold.
      const before = await fetch(`${own.url}/`, as(session));
      expect(await before.text()).toContain("20260102T000000000Z-bbbbbb");
      const etag = before.headers.get("etag")!;
      const revalidated = await fetch(`${own.url}/`, as(session, { headers: { "if-none-match": etag } }));
      expect(revalidated.status).toBe(304);
      const head = await fetch(`${own.url}/`, as(session, { method: "HEAD" }));
      expect(head.headers.get("content-length")).toBe(
        String(Buffer.byteLength(await (await fetch(`${own.url}/`, as(session))).text())),
      );
      const first = await fetch(`${own.url}/api/builds/rollback`, as(session, { method: "POST", json: {} }));
      expect(await first.json()).toEqual({
        from: "20260102T000000000Z-bbbbbb",
        to: "20260101T000000000Z-aaaaaa",
      });
      expect(await (await fetch(`${own.url}/`, as(session))).text()).toContain("20260101T000000000Z-aaaaaa");
      const second = await fetch(`${own.url}/api/builds/rollback`, as(session, { method: "POST", json: {} }));
      expect(second.status).toBe(409);
    } finally {
      await own.close();
    }
  });
});

describe("observability", () => {
  it("answers health and readiness", async () => {
    expect(await (await api("/healthz")).json()).toEqual({ status: "ok" });
    expect(await (await api("/readyz")).json()).toEqual({
      status: "ready",
      checks: { server: "ok", store: "ok" },
    });
  });

  it("exposes Prometheus metrics for HTTP latency, runs, builds and lake bytes to local scrapers", async () => {
    const text = await (await api("/metrics")).text();
    expect(text).toMatch(/lakebook_http_request_duration_seconds_bucket\{.*route="\/api\/runs"/);
    expect(text).toMatch(/lakebook_runs_total\{job="steps",status="succeeded"\} \d/);
    expect(text).toContain("# TYPE lakebook_build_duration_seconds histogram");
    expect(text).toMatch(/lakebook_lake_bytes\{zone="curated"\} [1-9]\d*/);
  });

  it("sets helmet's headers and a strict policy on API responses", async () => {
    const response = await api("/api/session");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("strict-transport-security")).toMatch(/max-age=/);
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("content-security-policy")).toBe(
      "default-src 'none'; frame-ancestors 'none'; sandbox",
    );
  });
});

describe("graceful shutdown", () => {
  it("finishes a running job and in-flight requests before closing", async () => {
    const own = await startServer(fixture.config, {
      logger: silentLogger,
      store: db.store,
      jobs,
      schedules: false,
    });
    const session = await login(own.url, "ada");
    const run = (await (
      await fetch(`${own.url}/api/runs`, as(session, { method: "POST", json: { job: "short" } }))
    ).json()) as Run;
    const events = await fetch(`${own.url}/api/runs/events`, as(session));
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await db.store.maybeRun(run.id))?.status).toBe("succeeded");
    // The live stream was ended, not left hanging.
    await expect(events.text()).resolves.toBeTypeOf("string");
  });
});
