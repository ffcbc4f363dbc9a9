/**
 * A PostgreSQL outage while the site is published: the store reaches the real PostgreSQL through
 * a loopback proxy the tests cut, black-hole and restore (the database itself keeps running).
 * Reading pages and lake files goes on for signed-in readers from what was read before, access
 * rules included; what needs the store answers 503 with Retry-After; nothing opens up.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAccessControl, SESSION_COOKIE } from "../../server/auth/accessControl.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { createStore, quoteIdentifier, type Store } from "../../src/store/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";
import { createTcpProxy, type TcpProxy } from "../helpers/tcpProxy.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { createFixture, type Fixture } from "./fixture.ts";

const schema = `lakebook_test_${randomBytes(4).toString("hex")}`;
let fixture: Fixture;
let proxy: TcpProxy;
let store: Store;
let server: RunningServer;
let admin: Session;
let finance: Session;
let viewer: Session;

const get = (path: string, init: RequestInit = {}) =>
  fetch(server.url + path, { redirect: "manual", ...init });

beforeAll(async () => {
  fixture = await createFixture();
  const database = new URL(TEST_DATABASE_URL);
  proxy = await createTcpProxy({ host: database.hostname, port: Number(database.port || 5432) });
  store = await createStore({
    kind: "postgres",
    url: proxy.urlFor(TEST_DATABASE_URL),
    schema,
    max: 4,
    connectTimeoutMs: 500,
    queryTimeoutMs: 1000,
  });
  await addUser(store, "ada", "admin");
  await addUser(store, "fin", "viewer", ["finance"]);
  await addUser(store, "vic", "viewer");
  await store.setAccessRule({ path: "/lake/curated/ventes/", groups: ["finance"] });
  await store.setAccessRule({ path: "/dir/", groups: ["finance"] });
  server = await startServer(fixture.config, {
    logger: silentLogger,
    store,
    jobs: { noop: async () => undefined },
    schedules: false,
    // Every request asks the store: no fresh cache hides the outage.
    access: { cacheTtlMs: 0 },
  });
  [admin, finance, viewer] = await Promise.all([
    login(server.url, "ada"),
    login(server.url, "fin"),
    login(server.url, "vic"),
  ]);
});

afterAll(async () => {
  await server?.close();
  await store?.close().catch(() => undefined);
  await proxy?.close();
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await client.end();
  await fixture?.cleanup();
});

beforeEach(async () => {
  proxy.restore();
  await eventually(async () => (await get("/readyz")).status === 200, "the store answering again");
  // Each reader has been seen while the store answered: that is what an outage may reuse.
  for (const session of [admin, finance, viewer]) {
    expect((await get("/api/session", as(session))).status).toBe(200);
    expect((await get("/lake/curated/sales/data.csv", as(session))).status).toBe(200);
  }
});

/** Checks what readers and writers get while the store cannot answer. */
async function expectOutageBehaviour(): Promise<void> {
  const page = await get("/", as(finance, { headers: { accept: "text/html" } }));
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Home b1");
  const lake = await get("/lake/curated/sales/data.parquet", as(viewer, { headers: { range: "bytes=0-3" } }));
  expect(lake.status).toBe(206);
  expect(Buffer.from(await lake.arrayBuffer())).toEqual(fixture.parquet.subarray(0, 4));
  expect((await get("/lake/curated/ventes/données%20été.csv", as(finance))).status).toBe(200);
  // The access rules read before still hold: an outage never widens access.
  expect((await get("/lake/curated/ventes/données%20été.csv", as(viewer))).status).toBe(403);
  expect((await get("/dir/page", as(viewer))).status).toBe(403);
  expect((await get("/lake/curated/sales/data.csv")).status).toBe(401);
  expect(
    ((await (await get("/api/session", as(finance))).json()) as { user: { name: string } }).user.name,
  ).toBe("fin");
  expect((await get("/api/datasets", as(viewer))).status).toBe(200);

  // What needs the store: a 503 the client may retry, never a 500.
  const unknown = `${SESSION_COOKIE}=${randomBytes(32).toString("base64url")}`;
  const refused = [
    await get("/lake/curated/sales/data.csv", { headers: { cookie: unknown } }),
    await get("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "vic", password: "correct horse battery" }),
    }),
    await get("/api/runs", as(admin)),
    await get("/api/runs", as(admin, { method: "POST", json: { job: "noop" } })),
  ];
  for (const response of refused) {
    expect(response.status, response.url).toBe(503);
    expect(Number(response.headers.get("retry-after")), response.url).toBeGreaterThan(0);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("STORE_UNAVAILABLE");
  }
  const ready = await get("/readyz");
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: { store: string } }).checks.store).toMatch(/^failed/);
  expect((await get("/healthz")).status).toBe(200);
}

describe("a PostgreSQL outage", () => {
  it("keeps pages and lake files readable for signed-in readers when connections are refused", async () => {
    proxy.cut();
    await expectOutageBehaviour();
    proxy.restore();
    await eventually(async () => (await get("/readyz")).status === 200, "ready again");
    expect((await get("/api/runs", as(admin))).status).toBe(200);
    await login(server.url, "vic");
  });

  it("keeps them readable when the network goes silent, without waiting on every request", async () => {
    proxy.blackhole();
    await expectOutageBehaviour();
  });
});

describe("serving stale answers", () => {
  it("stops at the stale limit and at the session's expiry, then fails closed", async () => {
    const user = (await store.maybeUser("vic"))!;
    const shortLived = createAccessControl(fixture.config, store, {
      cacheTtlMs: 0,
      staleMs: 300,
      retryMs: 0,
    });
    const expiring = createAccessControl(fixture.config, store, {
      cacheTtlMs: 0,
      sessionTtlMs: 300,
      retryMs: 0,
    });
    const cookieOf = async (access: typeof shortLived) =>
      `${SESSION_COOKIE}=${(await access.startSession(user)).token}`;
    const [cookie, expiringCookie] = [await cookieOf(shortLived), await cookieOf(expiring)];
    expect((await shortLived.authenticate(cookie)).user?.name).toBe("vic");
    expect((await expiring.authenticate(expiringCookie)).user?.name).toBe("vic");
    expect(await shortLived.mode()).toBe("private");

    proxy.cut();
    expect((await shortLived.authenticate(cookie)).user?.name).toBe("vic");
    expect(await shortLived.mode()).toBe("private");
    expect((await expiring.authenticate(expiringCookie)).user?.name).toBe("vic");
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Past the limit nothing is assumed: not the user, not "no users" (an open site).
    await expect(shortLived.authenticate(cookie)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(shortLived.mode()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(expiring.authenticate(expiringCookie)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});
