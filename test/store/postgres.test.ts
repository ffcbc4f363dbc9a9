import { randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createStore, quoteIdentifier, type RunChange, type Store } from "../../src/store/index.ts";
import { listenPg } from "../../src/store/pgListener.ts";
import { closedPort } from "../helpers/closedPort.ts";
import { eventually } from "../helpers/eventually.ts";
import { TEST_DATABASE_URL, listenerPids, terminateBackends } from "../helpers/postgres.ts";
import { testStore } from "./storeContract.ts";

const schema = `lakebook_test_${randomBytes(4).toString("hex")}`;
const otherSchema = `lakebook_test_${randomBytes(4).toString("hex")}`;
const opened: Store[] = [];

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(otherSchema)} CASCADE`);
  await client.end();
});

testStore("postgres", async () => {
  // Two stores (two pools) on one schema stand in for two server processes; both run migrations.
  const [store, second] = await Promise.all([
    createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema }),
    createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema }),
  ]);
  opened.push(store, second);
  return { store, second };
});

describe("run announcements on PostgreSQL", () => {
  it("reach only the stores of the same schema, though channels are database-wide", async () => {
    const [store, other] = await Promise.all([
      createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema }),
      createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema: otherSchema }),
    ]);
    opened.push(store, other);
    const heard: RunChange[] = [];
    const stop = await other.watchRuns({ onChange: (change) => heard.push(change) });
    await store.createRun({ job: "build" });
    const own = (await other.createRun({ job: "build" }))!;
    await eventually(() => heard.length > 0, "the other schema's own announcement");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual([{ runId: own.id, kind: "run", seq: null }]);
    await stop();
  });

  it("says down when its connection is killed, reconnects, says up and hears changes again", async () => {
    const store = await createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema });
    opened.push(store);
    const states: string[] = [];
    const heard: RunChange[] = [];
    const stop = await store.watchRuns({
      onChange: (change) => heard.push(change),
      onState: (state) => states.push(state),
    });
    const [pid] = await listenerPids(schema);
    expect(pid).toBeTypeOf("number");
    await terminateBackends([pid!]);
    await eventually(() => states.includes("down"), "down");
    await eventually(() => states.includes("up"), "up");
    expect(states).toEqual(["down", "up"]);
    // A new connection listens; the killed one is gone.
    await eventually(async () => {
      const now = await listenerPids(schema);
      return now.length === 1 && now[0] !== pid;
    }, "one new listening connection");
    const run = (await store.createRun({ job: "build" }))!;
    await eventually(
      () => heard.some((change) => change.runId === run.id),
      "an announcement after reconnecting",
    );
    await stop();
    await eventually(async () => (await listenerPids(schema)).length === 0, "no listening connection");
  });

  it("closes its listening connections with the store, promptly", async () => {
    const store = await createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema: otherSchema });
    await store.watchRuns({ onChange: () => undefined });
    await store.watchRuns({ onChange: () => undefined });
    expect(await listenerPids(otherSchema)).toHaveLength(2);
    const started = Date.now();
    await store.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await eventually(async () => (await listenerPids(otherSchema)).length === 0, "no listening connection");
  });

  it("keeps retrying while PostgreSQL cannot be reached, and closes without waiting", async () => {
    const states: string[] = [];
    const port = await closedPort();
    const database = new URL(TEST_DATABASE_URL);
    const url = new URL(TEST_DATABASE_URL);
    url.hostname = "127.0.0.1";
    url.port = String(port);
    const stop = await listenPg(
      {
        url: url.toString(),
        channel: "lakebook_runs",
        applicationName: "lakebook listen test",
        retryMs: 20,
      },
      { onPayload: () => undefined, onState: (state) => states.push(state) },
    );
    expect(states).toEqual(["down"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(states).toEqual(["down"]);
    // PostgreSQL becomes reachable on that port: the next attempt listens.
    const relay = createServer((socket) => {
      const upstream = connect(Number(database.port || 5432), database.hostname);
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(port, "127.0.0.1", resolve));
    try {
      await eventually(() => states.includes("up"), "up");
      expect(states).toEqual(["down", "up"]);
      const started = Date.now();
      await stop();
      expect(Date.now() - started).toBeLessThan(500);
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});
