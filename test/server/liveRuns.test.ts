/**
 * Live run status across server processes: two servers on one real PostgreSQL schema (two stores,
 * two pools, as two processes would have), a run triggered on B, and the event stream of A.
 * Then the same on the embedded store, the listening connection killed, and shutdown.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import type { JobContext } from "../../server/runs/runner.ts";
import { createLogger, silentLogger, type Logger } from "../../src/logger.ts";
import { createStore, type Run, type RunLogLine, type Store } from "../../src/store/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { listenerPids, terminateBackends } from "../helpers/postgres.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Logs `count` numbered lines, `everyMs` apart, reporting progress. */
const lines =
  (count: number, everyMs: number) =>
  async ({ log, progress }: JobContext): Promise<void> => {
    for (let i = 1; i <= count; i++) {
      await pause(everyMs);
      log("info", `step ${i} of ${count}`);
      progress(i / count);
    }
  };

const jobs = {
  steps: lines(3, 100),
  long: lines(30, 50),
  fails: async ({ log }: JobContext) => {
    log("warn", "about to fail");
    throw new Error("boom");
  },
};

let fixture: Fixture;
let db: TestStore;
let other: Store;

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
  other = await db.second();
  await addUser(db.store, "ada", "admin");
});

afterAll(async () => {
  await db?.drop();
  await fixture?.cleanup();
});

function serve(store: Store, logger: Logger = silentLogger): Promise<RunningServer> {
  return startServer(
    fixture.config,
    { logger, store, jobs, schedules: false, runs: { pollMs: 50 } },
    { runDrainMs: 5000, closeTimeoutMs: 2000 },
  );
}

interface Stream {
  readonly runs: (id: string) => Run[];
  readonly lines: (id: string) => RunLogLine[];
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Reads `/api/runs/events` of `server` in the background; resolves once subscribed. */
async function openStream(server: RunningServer, session: Session): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/api/runs/events`, {
    ...as(session),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const events: { event: string; data: unknown }[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let subscribed!: () => void;
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith("retry:")) subscribed();
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      subscribed();
    }
  })();
  await ready;
  return {
    runs: (id) =>
      events
        .filter((e) => e.event === "run")
        .map((e) => e.data as Run)
        .filter((r) => r.id === id),
    lines: (id) =>
      events
        .filter((e) => e.event === "log")
        .map((e) => e.data as RunLogLine)
        .filter((l) => l.runId === id),
    ended,
    close: () => controller.abort(),
  };
}

async function trigger(server: RunningServer, session: Session, job: string): Promise<Run> {
  const response = await fetch(`${server.url}/api/runs`, as(session, { method: "POST", json: { job } }));
  expect(response.status).toBe(202);
  return (await response.json()) as Run;
}

const settled = (stream: Stream, id: string, status: string) =>
  eventually(() => stream.runs(id).some((run) => run.status === status), `run ${id} ${status} on the stream`);

/** Statuses in the order a run goes through them: a stream must never go back. */
const RANK = ["queued", "running", "succeeded", "failed"];
function expectForwardOnly(runs: readonly Run[]): void {
  const ranks = runs.map((run) => RANK.indexOf(run.status));
  expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
}

function captureLogs(): { logger: Logger; messages: () => string[] } {
  const stream = new PassThrough();
  const entries: { msg: string }[] = [];
  stream.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line) entries.push(JSON.parse(line));
  });
  return {
    logger: createLogger({ destination: stream, level: "info" }),
    messages: () => entries.map((e) => e.msg),
  };
}

describe("live runs across servers on one PostgreSQL", () => {
  it("streams a run executing on server B to a viewer of server A: each log line once, then its status", async () => {
    const [a, b] = await Promise.all([serve(db.store), serve(other)]);
    try {
      const [onA, onB] = await Promise.all([login(a.url, "ada"), login(b.url, "ada")]);
      const [streamA, streamB] = await Promise.all([openStream(a, onA), openStream(b, onB)]);
      const run = await trigger(b, onB, "steps");
      await settled(streamA, run.id, "succeeded");
      const expected = ["attempt 1 of 1: steps", "step 1 of 3", "step 2 of 3", "step 3 of 3"];
      expect(streamA.lines(run.id).map((line) => line.message)).toEqual(expected);
      expect(streamA.lines(run.id).map((line) => line.seq)).toEqual([1, 2, 3, 4]);
      const runsOnA = streamA.runs(run.id);
      expectForwardOnly(runsOnA);
      expect(runsOnA.at(-1)).toMatchObject({ status: "succeeded", progress: 1, attempt: 1 });
      // Progress arrived while it ran (each step is 100 ms apart), not only at the end.
      expect(runsOnA.some((r) => r.status === "running" && r.progress !== null)).toBe(true);
      // B, where it ran, streams it as before: no line twice although B hears its own announcements.
      await settled(streamB, run.id, "succeeded");
      expect(streamB.lines(run.id).map((line) => line.message)).toEqual(expected);
      streamA.close();
      streamB.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("shows a run failing on server B with its error on server A", async () => {
    const [a, b] = await Promise.all([serve(db.store), serve(other)]);
    try {
      const [onA, onB] = await Promise.all([login(a.url, "ada"), login(b.url, "ada")]);
      const streamA = await openStream(a, onA);
      const run = await trigger(b, onB, "fails");
      await settled(streamA, run.id, "failed");
      expect(streamA.runs(run.id).at(-1)).toMatchObject({ status: "failed", error: "boom" });
      expect(streamA.lines(run.id).map((line) => [line.level, line.message])).toEqual([
        ["info", "attempt 1 of 1: fails"],
        ["warn", "about to fail"],
        ["error", "boom"],
      ]);
      streamA.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("keeps the stream whole when the listening connection drops: polls, logs it, reconnects", async () => {
    const { logger, messages } = captureLogs();
    const [a, b] = await Promise.all([serve(db.store, logger), serve(other)]);
    try {
      const [onA, onB] = await Promise.all([login(a.url, "ada"), login(b.url, "ada")]);
      const streamA = await openStream(a, onA);
      const [listening] = await listenerPids(db.schema);
      expect(listening).toBeTypeOf("number");
      const run = await trigger(b, onB, "long");
      await eventually(() => streamA.lines(run.id).length >= 3, "the first lines");
      await terminateBackends([listening!]);
      await eventually(
        () => messages().some((m) => m.startsWith("run announcements from other servers stopped")),
        "the warning",
      );
      await eventually(
        () => messages().includes("run announcements from other servers are back"),
        "recovery",
      );
      await eventually(async () => {
        const now = await listenerPids(db.schema);
        return now.length === 1 && now[0] !== listening;
      }, "a new listening connection");
      await settled(streamA, run.id, "succeeded");
      const expected = [
        "attempt 1 of 1: long",
        ...Array.from({ length: 30 }, (_, i) => `step ${i + 1} of 30`),
      ];
      expect(streamA.lines(run.id).map((line) => line.message)).toEqual(expected);
      expectForwardOnly(streamA.runs(run.id));
      streamA.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("closes promptly with a stream open while the listener reconnects, leaving no connection behind", async () => {
    const a = await serve(db.store);
    const stream = await openStream(a, await login(a.url, "ada"));
    await terminateBackends(await listenerPids(db.schema));
    const started = Date.now();
    await a.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await stream.ended;
    await eventually(async () => (await listenerPids(db.schema)).length === 0, "no listening connection");
  });
});

describe("live runs on the embedded store", () => {
  it("streams a run executing in another app on the same PGlite store", async () => {
    const store = await createStore({ kind: "pglite" });
    await addUser(store, "ada", "admin");
    const [a, b] = await Promise.all([serve(store), serve(store)]);
    try {
      const [onA, onB] = await Promise.all([login(a.url, "ada"), login(b.url, "ada")]);
      const streamA = await openStream(a, onA);
      const run = await trigger(b, onB, "steps");
      await settled(streamA, run.id, "succeeded");
      expect(streamA.lines(run.id).map((line) => line.message)).toEqual([
        "attempt 1 of 1: steps",
        "step 1 of 3",
        "step 2 of 3",
        "step 3 of 3",
      ]);
      expectForwardOnly(streamA.runs(run.id));
      streamA.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
      await store.close();
    }
    // PGlite compiles its WebAssembly on start: tens of seconds on a loaded 2-core machine.
  }, 180_000);
});
