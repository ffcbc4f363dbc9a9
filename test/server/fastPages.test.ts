/**
 * The page fast path (server/fastPages.ts) in front of Express, as startServer mounts it, with a
 * record of which requests it answered. It must give the answer Express gives, and never answer
 * a request Express would refuse or route elsewhere.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SERVER_NESTED_ROUTES, SERVER_ROUTES } from "../../server/fastPages.ts";
import { createApp, servicesOf, type AppServices } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { createFixture, BUILD_1, BUILD_2, page, rawRequest, type Fixture } from "./fixture.ts";
import { addUser, login, type Session } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;
let server: Server;
let services: AppServices;
let url: string;
let viewer: Session;
let analyst: Session;
let clock = Date.now();
/** One entry per request: whether the fast path answered it. */
const answered: boolean[] = [];
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write(`site/builds/${BUILD_1}/runs.html`, page("A page named runs"));
  await fixture.write(`site/builds/${BUILD_1}/api.html`, page("A page named api"));
  await fixture.write(`site/builds/${BUILD_1}/margins.html`, page("Margins"));
  // As `lakebook build` publishes a page with `access: [finance]` in its front matter.
  await fixture.write(
    `site/builds/${BUILD_1}/.lakebook/access.json`,
    JSON.stringify([
      { path: "/_file/data/sales.abc123.csv", groups: ["finance"] },
      { path: "/margins", groups: ["finance"] },
    ]),
  );
  db = await openTestStore();
  await addUser(db.store, "vic", "viewer");
  await addUser(db.store, "ana", "analyst", ["finance"]);
  await db.store.setAccessRule({ path: "/dir/", groups: ["finance"] });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      callback();
    },
  });
  const app = createApp(fixture.config, {
    logger: pino({ level: "info" }, sink),
    store: db.store,
    schedules: false,
    access: { now: () => new Date(clock) },
  });
  services = servicesOf(app);
  server = createServer((req, res) => {
    const fast = services.fastPage(req, res);
    answered.push(fast);
    if (!fast) void app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [viewer, analyst] = await Promise.all([login(url, "vic"), login(url, "ana")]);
});

afterEach(() => {
  clock = Date.now();
});

afterAll(async () => {
  await services?.shutdown(1000);
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await db?.drop();
  await fixture?.cleanup();
});

/** GET (or another method) and report whether the fast path answered it. */
async function get(
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<{ response: Response; body: string; fast: boolean }> {
  const before = answered.length;
  const response = await fetch(url + path, { method, headers, redirect: "manual" });
  const body = await response.text();
  expect(answered.length, path).toBe(before + 1);
  return { response, body, fast: answered[before]! };
}

/** Headers that legitimately differ between two responses (fetch closes after a HEAD). */
const PER_RESPONSE = new Set(["date", "x-request-id", "connection", "keep-alive"]);

function stableHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => !PER_RESPONSE.has(name)));
}

describe("a reader's repeated page view", () => {
  it("is answered by the fast path with exactly the status, headers and body Express sent", async () => {
    for (const path of ["/explorer", "/", "/dir/", "/explorer?tab=2"]) {
      const session = path.startsWith("/dir") ? analyst : viewer;
      const first = await get(path, { cookie: session.cookie });
      const second = await get(path, { cookie: session.cookie });
      expect(first.fast, path).toBe(path === "/explorer?tab=2"); // same page as /explorer: cached
      expect(second.fast, path).toBe(true);
      expect(second.response.status, path).toBe(200);
      expect(second.body, path).toBe(first.body);
      expect(stableHeaders(second.response), path).toEqual(stableHeaders(first.response));
      expect(second.response.headers.get("x-request-id"), path).toMatch(/^[0-9a-f-]{36}$/);
      expect(second.response.headers.get("x-request-id")).not.toBe(
        first.response.headers.get("x-request-id"),
      );
    }
    const policy = (await get("/explorer", { cookie: viewer.cookie })).response.headers.get(
      "content-security-policy",
    );
    expect(policy).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
    expect(policy).not.toContain("sandbox");
  });

  it("answers HEAD without a body and a matching validator with 304 that keeps the page's policy", async () => {
    const full = await get("/explorer", { cookie: viewer.cookie });
    const head = await get("/explorer", { cookie: viewer.cookie }, "HEAD");
    expect(head.fast).toBe(true);
    expect(head.body).toBe("");
    expect(stableHeaders(head.response)).toEqual(stableHeaders(full.response));

    const etag = full.response.headers.get("etag")!;
    const revalidated = await get("/explorer", { cookie: viewer.cookie, "if-none-match": etag });
    expect(revalidated.fast).toBe(true);
    expect(revalidated.response.status).toBe(304);
    expect(revalidated.body).toBe("");
    expect(revalidated.response.headers.get("content-security-policy")).toBe(
      full.response.headers.get("content-security-policy"),
    );
    const changed = await get("/explorer", { cookie: viewer.cookie, "if-none-match": '"other"' });
    expect(changed.response.status).toBe(200);
  });

  it("leaves ranges and preconditions to Express", async () => {
    await get("/explorer", { cookie: viewer.cookie });
    const range = await get("/explorer", { cookie: viewer.cookie, range: "bytes=0-9" });
    expect(range.fast).toBe(false);
    expect(range.response.status).toBe(206);
    expect(range.body).toBe("<!DOCTYPE ");
    const precondition = await get("/explorer", { cookie: viewer.cookie, "if-match": '"nope"' });
    expect(precondition.fast).toBe(false);
    expect(precondition.response.status).toBe(412);
  });

  it("logs one line and counts one request per fast answer", async () => {
    const { response, fast } = await get("/explorer", { cookie: viewer.cookie });
    expect(fast).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = logLines.find((entry) => entry.reqId === response.headers.get("x-request-id"));
    expect(line).toMatchObject({ msg: "request", method: "GET", path: "/explorer", status: 200 });
    const metrics = await services.metrics.registry.getSingleMetricAsString(
      "lakebook_http_request_duration_seconds",
    );
    expect(metrics).toMatch(/_count\{method="GET",route="\/\*",status="200"\} [1-9]/);
  });
});

describe("requests the fast path must not answer", () => {
  beforeAll(async () => {
    // Every page below is cached by an allowed reader first.
    for (const path of ["/", "/explorer", "/dir/page"]) await get(path, { cookie: analyst.cookie });
  });

  it("anonymous, forged and malformed cookies are refused by Express", async () => {
    const forged = "lakebook_session=" + "A".repeat(43);
    for (const cookie of [undefined, forged, "lakebook_session=short", "other=1"]) {
      for (const path of ["/", "/explorer", "/dir/page"]) {
        const navigation = await get(path, { accept: "text/html", ...(cookie && { cookie }) });
        expect(navigation.fast, `${path} ${cookie}`).toBe(false);
        expect(navigation.response.status, `${path} ${cookie}`).toBe(302);
        expect(navigation.body).not.toContain("<h1>");
        const asset = await get(path, cookie ? { cookie } : {});
        expect(asset.response.status, `${path} ${cookie}`).toBe(401);
      }
    }
  });

  it("a reader outside an access rule's groups gets 403 for a page another reader cached", async () => {
    const refused = await get("/dir/page", { cookie: viewer.cookie });
    expect(refused.fast).toBe(false);
    expect(refused.response.status).toBe(403);
    expect(refused.body).not.toContain("Dir page");
  });

  it("an expired session is refused at once, though it is still in the session cache", async () => {
    expect((await get("/explorer", { cookie: viewer.cookie })).fast).toBe(true);
    clock = Date.now() + services.access.sessionTtlMs + 1000;
    const expired = await get("/explorer", { cookie: viewer.cookie });
    expect(expired.fast).toBe(false);
    expect(expired.response.status).toBe(401);
  });

  it("a signed-out session is refused on its next request", async () => {
    const session = await login(url, "vic");
    await get("/explorer", { cookie: session.cookie }); // Express looks the new session up
    expect((await get("/explorer", { cookie: session.cookie })).fast).toBe(true);
    const out = await fetch(`${url}/auth/logout`, {
      method: "POST",
      headers: { cookie: session.cookie, "x-csrf-token": session.csrf },
      redirect: "manual",
    });
    answered.push(false); // the logout request itself
    expect(out.status).toBeLessThan(400);
    const after = await get("/explorer", { cookie: session.cookie });
    expect(after.fast).toBe(false);
    expect(after.response.status).toBe(401);
  });

  it("knows every route the app registers (a new one must be added to SERVER_ROUTES)", () => {
    const app = createApp(fixture.config, { logger: silentLogger });
    const mounted = (app.router as unknown as { stack: { rawPath?: string }[] }).stack
      .map((layer) => layer.rawPath ?? "/")
      .filter((path) => path !== "/")
      .map((path) => path.split("/").slice(1));
    const nested = mounted.filter(([first]) => SERVER_NESTED_ROUTES.has(first!.toLowerCase()));
    for (const segments of nested)
      expect(SERVER_NESTED_ROUTES.get(segments[0]!.toLowerCase()), segments.join("/")).toBe(segments.length);
    const owned = mounted.filter(([first]) => !SERVER_NESTED_ROUTES.has(first!.toLowerCase()));
    expect(new Set(owned.map(([first]) => first!.toLowerCase()))).toEqual(SERVER_ROUTES);
  });

  it("the server's own routes win over pages of the same name, in any case", async () => {
    for (const path of ["/runs", "/RUNS", "/runs/", "/api", "/Api/"]) {
      const first = await get(path, { cookie: analyst.cookie });
      const second = await get(path, { cookie: analyst.cookie });
      expect([first.fast, second.fast], path).toEqual([false, false]);
      expect(second.body, path).not.toContain("A page named");
    }
  });

  it("bad paths and other methods go to Express", async () => {
    const port = Number(new URL(url).port);
    for (const path of ["/%2e%2e/explorer", "/dir/%2e%2e/explorer", "/explorer%00", "//explorer"]) {
      const before = answered.length;
      const raw = await rawRequest(port, path, { headers: { cookie: analyst.cookie } });
      expect(answered.slice(before), path).toEqual([false]);
      expect(raw.status, path).toBe(400);
    }
    const post = await get("/explorer", { cookie: analyst.cookie }, "POST");
    expect(post.fast).toBe(false);
    expect(post.response.status).toBe(405);
  });
});

describe("pages restricted by their front matter", () => {
  it("are read by the page's groups, fast once cached, and refused to others every time", async () => {
    for (let i = 0; i < 2; i++) {
      const allowed = await get("/margins", { cookie: analyst.cookie });
      expect(allowed.response.status).toBe(200);
      expect(allowed.body).toContain("Margins");
      if (i === 1) expect(allowed.fast).toBe(true);
      for (const path of ["/margins", "/margins.html"]) {
        const refused = await get(path, { cookie: viewer.cookie });
        expect(refused.fast, path).toBe(false);
        expect(refused.response.status, path).toBe(403);
        expect(refused.body, path).not.toContain("Margins");
      }
    }
    const anonymous = await get("/margins", { accept: "text/html" });
    expect(anonymous.response.status).toBe(302);
  });

  it("cover the page's attachments and are never served themselves", async () => {
    const file = "/_file/data/sales.abc123.csv";
    expect((await get(file, { cookie: analyst.cookie })).response.status).toBe(200);
    const refused = await get(file, { cookie: viewer.cookie });
    expect(refused.response.status).toBe(403);
    expect(refused.body).not.toContain("1,2");
    for (const path of ["/.lakebook/access.json", "/.lakebook/"]) {
      const hidden = await get(path, { cookie: analyst.cookie });
      expect(hidden.response.status, path).toBe(404);
      expect(hidden.body, path).not.toContain("finance");
    }
    // Pages without a rule stay readable to every reader.
    expect((await get("/explorer", { cookie: viewer.cookie })).response.status).toBe(200);
  });
});

describe("publishing while readers read", () => {
  it("serves the newly published build on the next request, every time", async () => {
    const site = fixture.config.siteDir;
    const publish = async (build: string): Promise<void> => {
      await rm(join(site, "current.next"), { force: true });
      await symlink(`builds/${build}`, join(site, "current.next"));
      await rename(join(site, "current.next"), join(site, "current"));
    };
    try {
      for (let round = 0; round < 10; round++) {
        await publish(BUILD_2);
        expect((await get("/", { cookie: viewer.cookie })).body, `round ${round}`).toContain("Home b2");
        const cached = await get("/", { cookie: viewer.cookie });
        expect(cached.fast).toBe(true);
        expect(cached.body).toContain("Home b2");
        await publish(BUILD_1);
        expect((await get("/", { cookie: viewer.cookie })).body, `round ${round}`).toContain("Home b1");
      }
    } finally {
      await publish(BUILD_1);
    }
  });
});
