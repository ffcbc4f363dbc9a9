import { rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.ts";
import { BUILD_2, BUILD_1, createFixture, listen, rawRequest, type Fixture } from "./fixture.ts";

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

const get = (path: string, init?: RequestInit) => fetch(server.url + path, { redirect: "manual", ...init });

describe("pages", () => {
  it("serves index.html at / as no-cache HTML", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toContain("<h1>Home b1</h1>");
  });

  it("serves a page at its clean URL", async () => {
    const response = await get("/explorer");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<h1>Explorer</h1>");
  });

  it("serves a nested page at its clean URL", async () => {
    const response = await get("/dir/page?x=1");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<h1>Dir page</h1>");
  });

  it("serves dir/index.html at /dir/", async () => {
    const response = await get("/dir/");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<h1>Dir index</h1>");
  });

  it("redirects /dir to /dir/ so the page's relative links resolve", async () => {
    const response = await get("/dir");
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/dir/");
  });

  it("redirects the .html spelling to the clean URL, keeping the query", async () => {
    const response = await get("/explorer.html?q=1");
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/explorer?q=1");
    expect((await get("/index.html")).headers.get("location")).toBe("/");
    expect((await get("/dir/index.html")).headers.get("location")).toBe("/dir/");
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const response = await get("/explorer", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await response.text()).toBe("");
  });

  it("serves other root files exactly as named", async () => {
    const response = await get("/robots.txt");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
  });

  it("revalidates a page with its ETag (304)", async () => {
    const first = await get("/explorer");
    const etag = first.headers.get("etag");
    // The file's size and mtime, then the tag of the reader's view (the page's PDF link).
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+(-[0-9a-f.]+)?"$/);
    const second = await get("/explorer", { headers: { "If-None-Match": etag! } });
    expect(second.status).toBe(304);
    expect(await second.text()).toBe("");
  });
});

describe("not found", () => {
  it("serves the build's 404.html with status 404", async () => {
    const response = await get("/no/such/page");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.text()).toContain("Custom not found");
  });

  it("does not redirect a .html spelling of a missing page", async () => {
    expect((await get("/missing.html")).status).toBe(404);
  });

  it("answers plain text 404 when the build has no 404.html", async () => {
    const alt = await createFixture();
    try {
      await rm(join(alt.root, `site/builds/${BUILD_1}/404.html`));
      const altServer = await listen(alt.config);
      try {
        const response = await fetch(altServer.url + "/nope");
        expect(response.status).toBe(404);
        expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
        expect(await response.text()).toBe("page not found\n");
      } finally {
        await altServer.close();
      }
    } finally {
      await alt.cleanup();
    }
  });

  it("hides dotfiles", async () => {
    expect((await get("/.hidden")).status).toBe(404);
  });
});

describe("hashed assets", () => {
  it.each([
    ["/_observablehq/client.abc123.js", "text/javascript; charset=utf-8"],
    ["/_observablehq/theme.abc123.css", "text/css; charset=utf-8"],
    ["/_file/data/sales.abc123.csv", "text/csv; charset=utf-8"],
    ["/_npm/lib@1.0.0/index.abc123.js", "text/javascript; charset=utf-8"],
  ])("serves %s as immutable %s", async (path, type) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(type);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("lets scripts run as workers that compile WebAssembly (DuckDB-WASM's worker runs under its script's policy)", async () => {
    const policy =
      (await get("/_npm/lib@1.0.0/index.abc123.js")).headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain("default-src 'none'");
    expect((await get("/_file/data/sales.abc123.csv")).headers.get("content-security-policy")).toContain(
      "default-src 'none'",
    );
  });

  it("does not mark a missing asset immutable", async () => {
    const response = await get("/_observablehq/missing.js");
    expect(response.status).toBe(404);
    expect(response.headers.get("cache-control")).not.toContain("immutable");
  });

  it("serves asset paths exactly, without clean-URL guessing", async () => {
    expect((await get("/_observablehq/client.abc123")).status).toBe(404);
  });
});

describe("publishing", () => {
  it("answers 503 with a hint before the first build", async () => {
    const empty = await createFixture({ publish: false });
    const emptyServer = await listen(empty.config);
    try {
      for (const path of ["/", "/explorer", "/_observablehq/client.abc123.js"]) {
        const response = await fetch(emptyServer.url + path);
        expect(response.status).toBe(503);
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(await response.text()).toBe("no site published yet: run `lakebook build`\n");
      }
      // Publishing needs no restart.
      await symlink(`builds/${BUILD_1}`, join(empty.root, "site/current"));
      expect((await fetch(emptyServer.url + "/")).status).toBe(200);
    } finally {
      await emptyServer.close();
      await empty.cleanup();
    }
  });

  it("serves a new build on the next request after `current` is switched atomically", async () => {
    const site = join(fixture.root, "site");
    expect(await (await get("/")).text()).toContain("Home b1");
    await symlink(`builds/${BUILD_2}`, join(site, "current.next"));
    await rename(join(site, "current.next"), join(site, "current"));
    try {
      expect(await (await get("/")).text()).toContain("Home b2");
      expect((await get("/explorer")).status).toBe(404);
    } finally {
      await symlink(`builds/${BUILD_1}`, join(site, "current.back"));
      await rename(join(site, "current.back"), join(site, "current"));
    }
    expect(await (await get("/")).text()).toContain("Home b1");
  });

  it.each([
    ["outside the site folder", "../outside/site", "/"],
    ["at the site folder itself", ".", `/builds/${BUILD_1}/`],
    ["at the builds folder", "builds", `/${BUILD_1}/`],
    ["at a file", `builds/${BUILD_1}/index.html`, "/"],
  ])("refuses a `current` that points %s", async (_case, target, path) => {
    const site = join(fixture.root, "site");
    await symlink(target, join(site, "current.evil"));
    await rename(join(site, "current.evil"), join(site, "current"));
    try {
      const response = await get(path);
      expect(response.status).toBe(503);
      const body = await response.text();
      expect(body).toBe("the published site is invalid: run `lakebook build` to publish it again\n");
      expect(body).not.toContain(fixture.root);
    } finally {
      await symlink(`builds/${BUILD_1}`, join(site, "current.back"));
      await rename(join(site, "current.back"), join(site, "current"));
    }
  });

  it("refuses a symlink inside the build that points outside it", async () => {
    const response = await get("/leak.txt");
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("secret outside");
  });
});

describe("methods", () => {
  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])("answers %s with 405 and Allow", async (method) => {
    const response = await rawRequest(server.port, "/explorer", { method });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD");
    expect(response.body).toBe(`method ${method} not allowed: use GET, HEAD\n`);
  });
});
