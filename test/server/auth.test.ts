import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../server/auth/accessControl.ts";
import { createTotpSeed, seal, totpCode } from "../../src/auth/index.ts";
import { ROUTES } from "../../server/api/routes.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Config } from "../../src/config.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { PASSWORD, addUser, as, login, sessionCookie, type Session } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

const SECRET_KEY = randomBytes(32).toString("base64");
const totpSeed = createTotpSeed();
const timSeed = createTotpSeed();
let fixture: Fixture;
let db: TestStore;
let config: Config;
let server: RunningServer;
let admin: Session;
let analyst: Session;
let viewer: Session;

const jobs = { noop: async () => undefined };

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
  config = { ...fixture.config, secretKey: SECRET_KEY };
  await addUser(db.store, "ada", "admin");
  await addUser(db.store, "ana", "analyst", ["finance"]);
  await addUser(db.store, "vic", "viewer");
  await addUser(db.store, "tom", "viewer", [], seal(totpSeed, Buffer.from(SECRET_KEY, "base64")));
  await addUser(db.store, "locky", "viewer");
  await addUser(db.store, "tim", "viewer", [], seal(timSeed, Buffer.from(SECRET_KEY, "base64")));
  await db.store.setAccessRule({ path: "/dir/", groups: ["finance"] });
  await db.store.setAccessRule({ path: "/lake/curated/ventes/", groups: ["finance"] });
  server = await startServer(config, {
    logger: silentLogger,
    store: db.store,
    jobs,
    login: { attemptsPerWindow: 1000 },
    schedules: false,
  });
  [admin, analyst, viewer] = await Promise.all([
    login(server.url, "ada"),
    login(server.url, "ana"),
    login(server.url, "vic"),
  ]);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

const get = (path: string, init: RequestInit = {}) =>
  fetch(server.url + path, { redirect: "manual", ...init });

/** Every API route with well-formed example parameters. */
function exampleRoutes(): { method: string; path: string; capability: string | undefined }[] {
  return ROUTES.map((route) => ({
    method: route.method.toUpperCase(),
    capability: route.capability,
    path:
      "/api" +
      route.path
        .replace(":zone", "curated")
        .replace(":dataset", "sales")
        .replace(":version", "1")
        .replace(
          ":id",
          route.path.startsWith("/runs")
            ? "r-000000001-00000000"
            : route.path.startsWith("/schedules")
              ? "s-000000000000"
              : "20260101T000000000Z-abcdef",
        ),
  }));
}

/**
 * Sends every operation of the server's OpenAPI document without a session and checks it is
 * refused (401 or 403) exactly when the document lists no anonymous (`{}`) security.
 */
async function checkDocumentedSecurity(url: string): Promise<{ refused: string[]; open: string[] }> {
  const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: object[] }>>;
  };
  const refused: string[] = [];
  const open: string[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const path = template
        .replace("{zone}", "curated")
        .replace("{dataset}", "sales")
        .replace("{version}", "1")
        .replace("{id}", template.startsWith("/api/runs") ? "r-000000001-00000000" : "s-000000000000");
      const needsSession =
        operation.security !== undefined && !operation.security.some((s) => Object.keys(s).length === 0);
      const response = await fetch(url + path, {
        method: method.toUpperCase(),
        redirect: "manual",
        ...(method !== "get" && { headers: { "content-type": "application/json" }, body: "{}" }),
      });
      await response.body?.cancel();
      const name = `${method.toUpperCase()} ${template}`;
      expect([401, 403].includes(response.status), `${name}: ${response.status}`).toBe(needsSession);
      (needsSession ? refused : open).push(name);
    }
  }
  return { refused, open };
}

describe("without signing in", () => {
  it("redirects page navigations to the login page and refuses assets with 401", async () => {
    for (const path of ["/", "/explorer", "/dir/page"]) {
      const response = await get(path, { headers: { accept: "text/html" } });
      expect(response.status, path).toBe(302);
      expect(response.headers.get("location"), path).toBe(`/auth/login?next=${encodeURIComponent(path)}`);
    }
    for (const path of [
      "/_observablehq/client.abc123.js",
      "/_file/data/sales.abc123.csv",
      "/robots.txt",
      "/explorer",
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(401);
      expect(await response.text(), path).not.toContain("export function");
    }
  });

  it("refuses every lake file with 401 JSON", async () => {
    for (const path of [
      "/lake/curated/sales/data.parquet",
      "/lake/curated/sales/data.csv",
      "/lake/curated/ventes/x.csv",
    ]) {
      const response = await get(path, { headers: { range: "bytes=0-3" } });
      expect(response.status, path).toBe(401);
      expect(((await response.json()) as { error: { status: number } }).error.status).toBe(401);
    }
  });

  it("refuses every API route that needs a role with 401, and serves the session and the spec", async () => {
    for (const { method, path, capability } of exampleRoutes()) {
      const response = await get(path, {
        method,
        ...(method !== "GET" && { headers: { "content-type": "application/json" }, body: "{}" }),
      });
      if (capability === undefined) expect(response.status, `${method} ${path}`).toBe(200);
      else expect(response.status, `${method} ${path}`).toBe(401);
      await response.body?.cancel();
    }
    const session = (await (await get("/api/session")).json()) as { mode: string; user: unknown };
    expect(session).toMatchObject({ mode: "private", user: null });
  });

  it("documents a session as required for exactly the API routes that refuse a signed-out request", async () => {
    const checked = await checkDocumentedSecurity(server.url);
    expect(checked.refused.length).toBeGreaterThan(10);
    expect(checked.open).toEqual(expect.arrayContaining(["GET /api/session", "GET /api/openapi.json"]));
    // In public mode the read routes are open to everyone, and the document says so.
    const publicServer = await startServer(
      { ...config, publicMode: true },
      { logger: silentLogger, store: db.store, jobs, schedules: false },
    );
    try {
      const open = (await checkDocumentedSecurity(publicServer.url)).open;
      expect(open).toEqual(expect.arrayContaining(["GET /api/datasets", "GET /api/builds"]));
      expect(open).not.toContain("GET /api/runs");
    } finally {
      await publicServer.close();
    }
  });

  it("keeps the runs page and the metrics of other machines closed", async () => {
    expect((await get("/runs")).status).toBe(302);
    expect((await get("/metrics", { headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(401);
    expect(
      (await get("/metrics", { headers: { "x-forwarded-for": "203.0.113.9", cookie: admin.cookie } })).status,
    ).toBe(200);
  });
});

describe("signing in", () => {
  it("serves a self-contained login page whose policy allows only its own style", async () => {
    const response = await get("/auth/login?next=/explorer");
    expect(response.status).toBe(200);
    const policy = response.headers.get("content-security-policy")!;
    expect(policy).toMatch(/default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'none'/);
    const html = await response.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('name="next" value="/explorer"');
  });

  it("signs in with the form and its token, redirecting to a local next page only", async () => {
    const page = await get("/auth/login");
    const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const form = (extra: Record<string, string>) =>
      get("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body: new URLSearchParams({ username: "vic", password: PASSWORD, ...extra }).toString(),
      });
    const ok = await form({ csrf, next: "/explorer" });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/explorer");
    const set = ok.headers.getSetCookie().find((c) => c.startsWith("lakebook_session="))!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Lax/);
    expect(set).toMatch(/Max-Age=\d+/);
    const elsewhere = await form({ csrf, next: "//evil.example/x" });
    expect(elsewhere.headers.get("location")).toBe("/");
    expect((await form({ csrf: "forged", next: "/" })).status).toBe(403);
    expect((await form({ next: "/" })).status).toBe(403);
  });

  it("answers a wrong password, an unknown user and a missing TOTP code alike", async () => {
    const attempt = (username: string, password: string, totp?: string) =>
      get("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password, ...(totp && { totp }) }),
      });
    const bodies: string[] = [];
    for (const response of [
      await attempt("vic", "wrong password!"),
      await attempt("nobody", PASSWORD),
      await attempt("tom", PASSWORD),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.getSetCookie()).toEqual([]);
      bodies.push(((await response.json()) as { error: { message: string } }).error.message);
    }
    expect(new Set(bodies).size).toBe(1);
    expect((await attempt("tom", PASSWORD, "000000")).status).toBe(401);
    const ok = await attempt("tom", PASSWORD, totpCode(totpSeed));
    expect(ok.status).toBe(200);
  });

  it("refuses a TOTP code used once already, like a wrong code, and one older than it", async () => {
    const attempt = (totp: string) =>
      get("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "tim", password: PASSWORD, totp }),
      });
    const now = Date.now();
    const code = totpCode(timSeed, now);
    const first = await attempt(code);
    expect(first.status).toBe(200);
    const wrong = await attempt("000000");
    expect(wrong.status).toBe(401);
    const replay = await attempt(code);
    expect(replay.status).toBe(401);
    expect(replay.headers.getSetCookie()).toEqual([]);
    const errorOf = async (response: Response) => ((await response.json()) as { error: unknown }).error;
    expect(await errorOf(replay)).toEqual(await errorOf(wrong));
    // The previous period's code is still inside the drift window, but older than the one used.
    expect((await attempt(totpCode(timSeed, now - 30_000))).status).toBe(401);
    await db.store.clearLoginFailures("tim");
  });

  it("locks an account after 5 failures: even the right password is refused, and it is audited", async () => {
    for (let i = 0; i < 5; i++) {
      const response = await get("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "locky", password: `wrong-${i}-password` }),
      });
      expect(response.status).toBe(401);
    }
    const right = await get("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "locky", password: PASSWORD }),
    });
    expect(right.status).toBe(401);
    expect((await db.store.maybeUser("locky"))?.lockedUntil?.getTime()).toBeGreaterThan(Date.now());
    expect((await db.store.listAudit({ limit: 5 })).map((e) => e.action)).toContain("login.locked");
  });

  it("rate-limits a burst of logins from one address with 429 and creates no session", async () => {
    const limited = await startServer(config, {
      logger: silentLogger,
      store: db.store,
      jobs,
      login: { attemptsPerWindow: 5, windowMs: 60_000 },
      schedules: false,
    });
    try {
      await db.store.clearLoginFailures("vic");
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${limited.url}/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ username: "vic", password: "guess-guess-guess" }),
          }),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
      const throttled = responses.find((r) => r.status === 429)!;
      expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(responses.flatMap((r) => r.headers.getSetCookie())).toEqual([]);
      // The five wrong passwords that got through count towards vic's lockout.
      expect((await db.store.maybeUser("vic"))?.failedLogins).toBe(5);
    } finally {
      await db.store.clearLoginFailures("vic");
      await limited.close();
    }
  });
});

describe("cookies", () => {
  it("treats a forged session cookie as no session", async () => {
    for (const value of [randomBytes(32).toString("base64url"), "x", "' OR 1=1 --", "a".repeat(5000)]) {
      const headers = { cookie: `lakebook_session=${value}`, accept: "text/html" };
      expect((await get("/", { headers })).status, value.slice(0, 10)).toBe(302);
      expect((await get("/api/runs", { headers })).status).toBe(401);
    }
  });

  it("refuses an expired session", async () => {
    const token = randomBytes(32).toString("base64url");
    await db.store.createSession({
      idHash: hashToken(token),
      userName: "ada",
      csrfToken: "c",
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await get("/api/runs", { headers: { cookie: `lakebook_session=${token}` } })).status).toBe(401);
  });

  it("logs out with the CSRF token only, and the cookie stops working", async () => {
    const session = await login(server.url, "vic");
    const noToken = await get("/auth/logout", { method: "POST", headers: { cookie: session.cookie } });
    expect(noToken.status).toBe(403);
    const out = await get("/auth/logout", as(session, { method: "POST" }));
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()[0]).toMatch(/^lakebook_session=; .*Max-Age=0/);
    expect((await get("/api/builds/current", { headers: { cookie: session.cookie } })).status).toBe(401);
  });
});

describe("roles and access rules", () => {
  it("lets a viewer read pages, assets and the lake, and shows the build stamp", async () => {
    const page = await get("/", as(viewer));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="lakebook-build"');
    expect((await get("/_observablehq/client.abc123.js", as(viewer))).status).toBe(200);
    expect((await get("/lake/curated/sales/data.csv", as(viewer))).status).toBe(200);
  });

  it("refuses pages, attachments and lake folders under a rule to users outside its groups", async () => {
    for (const path of [
      "/dir/page",
      "/dir/",
      "/dir/page.html",
      "/lake/curated/ventes/donn%C3%A9es%20%C3%A9t%C3%A9.csv",
    ]) {
      expect((await get(path, as(viewer))).status, path).toBe(403);
      expect((await get(path, as(analyst))).status, path).not.toBe(403);
      expect((await get(path, as(admin))).status, path).not.toBe(403);
    }
  });

  it("gives each role exactly its API routes", async () => {
    const allowed: Record<string, string[]> = {
      viewer: ["read"],
      analyst: ["read", "readOps", "operate"],
      admin: ["read", "readOps", "operate", "admin"],
    };
    for (const [role, session] of [
      ["viewer", viewer],
      ["analyst", analyst],
      ["admin", admin],
    ] as const) {
      for (const { method, path, capability } of exampleRoutes()) {
        if (path === "/api/runs/events") continue;
        const response = await get(
          path,
          as(session, { method, ...(method !== "GET" && method !== "DELETE" && { json: {} }) }),
        );
        await response.body?.cancel();
        const refused = response.status === 403;
        expect(refused, `${role} ${method} ${path} -> ${response.status}`).toBe(
          capability !== undefined && !allowed[role]!.includes(capability),
        );
        expect(response.status, `${role} ${method} ${path}`).not.toBe(401);
      }
    }
  });
});

describe("CSRF", () => {
  it("refuses a state-changing API request without the token, with a wrong one, or from another origin", async () => {
    const body = JSON.stringify({ job: "noop" });
    const headers = { cookie: analyst.cookie, "content-type": "application/json" };
    expect((await get("/api/runs", { method: "POST", headers, body })).status).toBe(403);
    expect(
      (await get("/api/runs", { method: "POST", headers: { ...headers, "x-csrf-token": "forged" }, body }))
        .status,
    ).toBe(403);
    expect(
      (
        await get("/api/runs", {
          method: "POST",
          headers: { ...headers, "x-csrf-token": analyst.csrf, origin: "http://evil.example" },
          body,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await get("/api/runs", {
          method: "POST",
          headers: { ...headers, "x-csrf-token": analyst.csrf, "sec-fetch-site": "cross-site" },
          body,
        })
      ).status,
    ).toBe(403);
    expect((await db.store.listRuns()).length).toBe(0);
    const ok = await get("/api/runs", {
      method: "POST",
      headers: { ...headers, "x-csrf-token": analyst.csrf, origin: server.url },
      body,
    });
    expect(ok.status).toBe(202);
  });
});

describe("hostile input", () => {
  it("refuses path traversal in every API path parameter with 400", async () => {
    const bad = ["..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "a%00b", "..%5C..", "x'%20OR%20'1'%3D'1"];
    for (const value of bad) {
      for (const path of [
        `/api/datasets/curated/${value}/versions`,
        `/api/datasets/${value}/sales/versions`,
        `/api/datasets/curated/sales/versions/${value}`,
        `/api/runs/${value}`,
        `/api/runs/${value}/logs`,
        `/api/schedules/${value}`,
        `/api/builds/${value}`,
      ]) {
        const response = await get(path, as(admin));
        expect([400, 404], `${path} -> ${response.status}`).toContain(response.status);
        const text = await response.text();
        expect(text).not.toContain("root:");
        expect(text).not.toMatch(/\.ts:\d+/);
      }
    }
  });

  it("refuses SQL injection in query parameters with 400 and changes nothing", async () => {
    const usersBefore = (await db.store.listUsers()).length;
    for (const query of [
      "status=' OR 1=1 --",
      "job=x'; DROP TABLE users; --",
      "limit=1; DELETE FROM runs",
      "limit=1 OR 1=1",
      "status=running&status=failed",
      "unknown=1",
    ]) {
      const response = await get(`/api/runs?${query.replace(/ /g, "%20")}`, as(admin));
      expect(response.status, query).toBe(400);
    }
    expect((await get("/api/datasets?zone=curated'--", as(admin))).status).toBe(400);
    expect((await db.store.listUsers()).length).toBe(usersBefore);
  });

  it("answers oversized, malformed and mistyped bodies with 413, 400 and 415 and no stack trace", async () => {
    const big = await get(
      "/api/runs",
      as(analyst, { method: "POST", json: { job: "noop", pad: "x".repeat(100_000) } }),
    );
    expect(big.status).toBe(413);
    const malformed = await get("/api/runs", {
      ...as(analyst, { method: "POST" }),
      headers: {
        ...Object.fromEntries(new Headers(as(analyst, { method: "POST" }).headers)),
        "content-type": "application/json",
      },
      body: '{"job": ',
    });
    expect(malformed.status).toBe(400);
    const malformedText = await malformed.text();
    expect(malformedText).toContain("malformed JSON body");
    expect(malformedText).not.toMatch(/at .*\(/);
    const typed = await get("/api/runs", {
      ...as(analyst, { method: "POST" }),
      body: "job=noop",
      headers: {
        ...Object.fromEntries(new Headers(as(analyst, { method: "POST" }).headers)),
        "content-type": "text/plain",
      },
    });
    expect(typed.status).toBe(415);
    const extra = await get("/api/runs", as(analyst, { method: "POST", json: { job: "noop", admin: true } }));
    expect(extra.status).toBe(400);
    const login = await get("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[1,2",
    });
    expect(login.status).toBe(400);
  });

  it("never returns a stack trace for an unknown API route or method", async () => {
    const response = await get("/api/nope/../../etc", as(admin));
    expect([400, 404]).toContain(response.status);
    expect(await response.text()).not.toMatch(/\.ts:\d+/);
    expect((await get("/api/runs", as(admin, { method: "PUT", json: {} }))).status).toBe(404);
  });
});

describe("modes", () => {
  it("opens reading but not changes to anonymous visitors in public mode", async () => {
    const open = await startServer(
      { ...config, publicMode: true },
      { logger: silentLogger, store: db.store, jobs, schedules: false },
    );
    try {
      expect((await fetch(`${open.url}/`)).status).toBe(200);
      expect((await fetch(`${open.url}/lake/curated/sales/data.csv`)).status).toBe(200);
      expect((await fetch(`${open.url}/api/builds/current`)).status).toBe(200);
      expect((await fetch(`${open.url}/dir/page`, { redirect: "manual" })).status).toBe(401);
      expect((await fetch(`${open.url}/api/runs`)).status).toBe(401);
      const post = await fetch(`${open.url}/api/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"job":"noop"}',
      });
      expect(post.status).toBe(401);
    } finally {
      await open.close();
    }
  });

  it("keeps a server without a store readable and without state changes", async () => {
    const plain = await startServer(fixture.config, { logger: silentLogger });
    try {
      expect((await fetch(`${plain.url}/`)).status).toBe(200);
      expect(await fetch(`${plain.url}/api/session`).then((r) => r.json())).toMatchObject({
        mode: "open",
        user: null,
      });
      const post = await fetch(`${plain.url}/api/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"job":"noop"}',
      });
      expect(post.status).toBe(401);
    } finally {
      await plain.close();
    }
  });

  it("uses the session cookie from a form login on pages", async () => {
    const response = await fetch(`${server.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "ana", password: PASSWORD }),
    });
    const cookie = sessionCookie(response);
    expect((await get("/dir/page", { headers: { cookie } })).status).toBe(200);
  });
});
