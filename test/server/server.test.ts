import { createHash } from "node:crypto";
import { request } from "node:http";
import { rename, symlink } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, DataError, HttpError, StorageError, VersionConflictError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import { describeError } from "../../server/middlewares/errorHandler.ts";
import { BUILD_2, BUILD_1, createFixture, listen, PAGE_SCRIPT, rawRequest, type Fixture } from "./fixture.ts";

let fixture: Fixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = await createFixture();
  server = await listen(fixture.config);
});

afterAll(async () => {
  await server?.close();
  await fixture?.cleanup();
});

describe("request ids", () => {
  it("gives every response an X-Request-Id, errors included", async () => {
    const ok = await fetch(server.url + "/");
    const missing = await fetch(server.url + "/lake/raw/x");
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.headers.get("x-request-id")).not.toBe(missing.headers.get("x-request-id"));
  });

  it("keeps a well-formed incoming id and replaces a malformed one", async () => {
    const kept = await fetch(server.url + "/", { headers: { "X-Request-Id": "proxy-123.abc" } });
    expect(kept.headers.get("x-request-id")).toBe("proxy-123.abc");
    const replaced = await fetch(server.url + "/", { headers: { "X-Request-Id": "bad id\twith<tags>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("security headers", () => {
  it("sets the basic set on pages, assets, lake files and errors, and no X-Powered-By", async () => {
    for (const path of ["/", "/_observablehq/client.abc123.js", "/lake/curated/sales/data.csv", "/nope"]) {
      const response = await fetch(server.url + path);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), path).toBe("same-origin");
      expect(response.headers.get("x-powered-by"), path).toBeNull();
      expect(response.headers.get("access-control-allow-origin"), path).toBeNull();
    }
  });

  it("allows exactly the page's own inline scripts in its Content-Security-Policy", async () => {
    const policy = (await fetch(server.url + "/explorer")).headers.get("content-security-policy")!;
    const hash = createHash("sha256").update(PAGE_SCRIPT).digest("base64");
    expect(policy).toContain(`script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}'`);
    expect(policy).not.toContain("unsafe-inline' 'sha256");
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("object-src 'none'");
  });

  it("sandboxes lake files and error bodies", async () => {
    for (const path of ["/lake/curated/sales/data.csv", "/lake/raw/sales/data.parquet"]) {
      const policy = (await fetch(server.url + path)).headers.get("content-security-policy");
      expect(policy, path).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    }
  });
});

describe("logging", () => {
  it("writes one line per request with method, path, status, duration and request id", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        callback();
      },
    });
    const logged = await startServer(fixture.config, { logger: pino({ level: "info" }, sink) });
    try {
      const response = await fetch(logged.url + "/lake/curated/sales/data.csv?token=secret");
      await response.text();
      await fetch(logged.url + "/missing-page").then((r) => r.text());
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await logged.close();
    }
    const requests = lines.filter((line) => line.msg === "request");
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ method: "GET", path: "/lake/curated/sales/data.csv", status: 200 });
    expect(requests[1]).toMatchObject({ method: "GET", path: "/missing-page", status: 404 });
    expect(typeof requests[0]!.durationMs).toBe("number");
    expect(requests[0]!.reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(lines)).not.toContain("secret");
  });
});

describe("errors", () => {
  it("maps LakebookError codes to statuses and hides server-side details", () => {
    expect(describeError(new HttpError(418, "short and stout"))).toEqual({
      status: 418,
      code: "HTTP",
      message: "short and stout",
    });
    expect(describeError(new VersionConflictError("k", "version 3 exists")).status).toBe(409);
    expect(describeError(new DataError("bad csv")).status).toBe(422);
    expect(describeError(new StorageError("disk /secret/path failed"))).toEqual({
      status: 500,
      code: "STORAGE",
      message: "internal server error",
    });
    expect(describeError(new ConfigError("x")).status).toBe(500);
    expect(describeError(new Error("boom at /home/x")).message).toBe("internal server error");
    expect(describeError(Object.assign(new Error("raw parser text"), { status: 400 }))).toEqual({
      status: 400,
      code: "HTTP",
      message: "bad request",
    });
  });
});

describe("startServer", () => {
  it("reports a port in use as a ConfigError", async () => {
    const config = { ...fixture.config, port: server.port };
    await expect(startServer(config, { logger: silentLogger })).rejects.toBeInstanceOf(ConfigError);
  });

  it("lets an in-flight response finish from the old build while `current` switches and the server closes", async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, "b1");
    await fixture.write(`site/builds/${BUILD_1}/_file/big.abc123.bin`, big);
    await fixture.write(`site/builds/${BUILD_2}/_file/big.abc123.bin`, Buffer.alloc(big.length, "b2"));
    const own = await listen(fixture.config);
    const site = join(fixture.root, "site");
    let closeStarted = 0;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = request(`${own.url}/_file/big.abc123.bin`, (res) => {
        res.pause();
        const chunks: Buffer[] = [];
        void (async () => {
          // Switch the live build, then ask the server to close, while this body is unread.
          await symlink(`builds/${BUILD_2}`, join(site, "current.next"));
          await rename(join(site, "current.next"), join(site, "current"));
          closeStarted = Date.now();
          const closed = own.close();
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => closed.then(() => resolve(Buffer.concat(chunks)), reject));
          res.resume();
        })().catch(reject);
      });
      req.on("error", reject);
      req.end();
    });
    try {
      expect(body.length).toBe(big.length);
      expect(body.equals(big)).toBe(true);
      // close() waited for the body, then did not linger on the idle keep-alive connection.
      expect(Date.now() - closeStarted).toBeLessThan(2000);
      await expect(fetch(own.url + "/")).rejects.toThrow();
      expect(await (await fetch(server.url + "/")).text()).toContain("Home b2");
    } finally {
      await symlink(`builds/${BUILD_1}`, join(site, "current.back"));
      await rename(join(site, "current.back"), join(site, "current"));
    }
  });

  it("closes promptly with idle keep-alive connections open", async () => {
    const own = await listen(fixture.config);
    await (await fetch(own.url + "/")).text();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("serves raw requests on the reported port", async () => {
    expect((await rawRequest(server.port, "/")).status).toBe(200);
  });
});
