/**
 * The client address behind a reverse proxy: a real proxy on 127.0.0.1 (appending the client's
 * address to X-Forwarded-For, as nginx's `$proxy_add_x_forwarded_for` does) and clients on other
 * loopback addresses (127.0.0.2, .3, .4: Linux routes all of 127/8 to lo), so each client really
 * connects from its own address.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import type { Config } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { addUser, login } from "./authHelpers.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

const ATTEMPTS = 3;
let fixture: Fixture;
let db: TestStore;

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
  await addUser(db.store, "ada", "admin");
});

afterAll(async () => {
  await db?.drop();
  await fixture?.cleanup();
});

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
}

/** One HTTP request from `from` (a local address), without connection reuse. */
function send(
  url: string,
  options: { from: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? "GET", headers: options.headers, localAddress: options.from, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A wrong-password login for an account that does not exist (so no lockout gets in the way). */
function badLogin(url: string, from: string, headers: Record<string, string> = {}): Promise<number> {
  return send(`${url}/auth/login`, {
    from,
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ username: "nobody", password: "not the password" }),
  }).then((reply) => reply.status);
}

/** Statuses of `count` logins sent one after the other. */
async function badLogins(
  url: string,
  from: string,
  count: number,
  headers?: (i: number) => Record<string, string>,
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await badLogin(url, from, headers?.(i)));
  return statuses;
}

/** A reverse proxy on 127.0.0.1 in front of `target`, connecting to it from 127.0.0.1. */
async function startProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const forwardedFor = [req.headers["x-forwarded-for"], req.socket.remoteAddress]
      .filter(Boolean)
      .join(", ");
    const upstream = request(
      new URL(req.url ?? "/", target),
      {
        method: req.method,
        headers: { ...req.headers, "x-forwarded-for": forwardedFor },
        localAddress: "127.0.0.1",
        agent: false,
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function withServer(
  config: Config,
  test: (server: RunningServer, proxy: { url: string }) => Promise<void>,
): Promise<void> {
  const server = await startServer(config, {
    logger: silentLogger,
    store: db.store,
    jobs: {},
    login: { attemptsPerWindow: ATTEMPTS, windowMs: 60_000 },
    schedules: false,
  });
  const proxy = await startProxy(server.url);
  try {
    await test(server, proxy);
  } finally {
    await proxy.close();
    await server.close();
  }
}

const limited = (count: number) => [
  ...Array<number>(ATTEMPTS).fill(401),
  ...Array<number>(count - ATTEMPTS).fill(429),
];

describe("without a trusted proxy (the default)", () => {
  it("ignores X-Forwarded-For: a forged address per attempt does not dodge the login limit", async () => {
    await withServer(fixture.config, async (server) => {
      const statuses = await badLogins(server.url, "127.0.0.2", ATTEMPTS + 3, (i) => ({
        "x-forwarded-for": `203.0.113.${i + 1}`,
      }));
      expect(statuses).toEqual(limited(ATTEMPTS + 3));
      // Another client on its own address still has its own attempts.
      expect(await badLogin(server.url, "127.0.0.3")).toBe(401);
    });
  });

  it("counts every client behind a proxy as the proxy", async () => {
    await withServer(fixture.config, async (_server, proxy) => {
      expect(await badLogins(proxy.url, "127.0.0.2", ATTEMPTS)).toEqual(Array(ATTEMPTS).fill(401));
      expect(await badLogin(proxy.url, "127.0.0.3")).toBe(429);
    });
  });
});

describe("with LAKEBOOK_TRUST_PROXY naming the proxy", () => {
  const trusting = (): Config => ({ ...fixture.config, trustProxy: ["127.0.0.1"] });

  it("gives two clients behind the proxy separate login buckets, and audits their addresses", async () => {
    await withServer(trusting(), async (_server, proxy) => {
      expect(await badLogins(proxy.url, "127.0.0.2", ATTEMPTS + 2)).toEqual(limited(ATTEMPTS + 2));
      expect(await badLogin(proxy.url, "127.0.0.3")).toBe(401);
      const audit = await db.store.listAudit({ limit: 3 });
      expect(audit.map((event) => [event.action, event.ip])).toEqual([
        ["login.failed", "127.0.0.3"],
        ["login.rate_limited", "127.0.0.2"],
        ["login.rate_limited", "127.0.0.2"],
      ]);
    });
  });

  it("keys on the address the proxy saw, whatever a client writes into X-Forwarded-For", async () => {
    await withServer(trusting(), async (_server, proxy) => {
      const statuses = await badLogins(proxy.url, "127.0.0.2", ATTEMPTS + 2, (i) => ({
        "x-forwarded-for": `198.51.100.${i + 1}`,
      }));
      expect(statuses).toEqual(limited(ATTEMPTS + 2));
    });
  });

  it("ignores X-Forwarded-For from a client that bypasses the proxy", async () => {
    await withServer(trusting(), async (server) => {
      const statuses = await badLogins(server.url, "127.0.0.4", ATTEMPTS + 2, (i) => ({
        "x-forwarded-for": `203.0.113.${i + 1}`,
      }));
      expect(statuses).toEqual(limited(ATTEMPTS + 2));
    });
  });

  it("still treats a proxied /metrics request as remote, even one claiming to come from loopback", async () => {
    await withServer(trusting(), async (server, proxy) => {
      expect((await send(`${server.url}/metrics`, { from: "127.0.0.1" })).status).toBe(200);
      expect((await send(`${proxy.url}/metrics`, { from: "127.0.0.1" })).status).toBe(401);
      const forged = { "x-forwarded-for": "127.0.0.1" };
      expect((await send(`${proxy.url}/metrics`, { from: "127.0.0.2", headers: forged })).status).toBe(401);
      // An admin may read it through the proxy.
      const admin = await login(proxy.url, "ada");
      const withSession = { from: "127.0.0.2", headers: { cookie: admin.cookie } };
      expect((await send(`${proxy.url}/metrics`, withSession)).status).toBe(200);
    });
  });

  it("trusts the nearest hops when given a hop count", async () => {
    await withServer({ ...fixture.config, trustProxy: 1 }, async (_server, proxy) => {
      expect(await badLogins(proxy.url, "127.0.0.2", ATTEMPTS + 1)).toEqual(limited(ATTEMPTS + 1));
      expect(await badLogin(proxy.url, "127.0.0.3")).toBe(401);
    });
  });
});
