/**
 * `lakebook serve --root` on another Framework project: the server answers from that project's
 * output folder as it is (no `current` link, no builds), with each page's policy allowing
 * `'unsafe-eval'` only when the page loads Vega, and "no icon" for a missing favicon.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { needsEval, pagePolicy } from "../../server/contentSecurityPolicy.ts";
import { normalizeConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";

let root: string;
let server: RunningServer;
const dist = () => join(root, "dist");

async function write(path: string, content: string): Promise<void> {
  await mkdir(dirname(join(dist(), path)), { recursive: true });
  await writeFile(join(dist(), path), content);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lakebook-static-"));
  const config = normalizeConfig({ root, port: 0 });
  server = await startServer(config, { logger: silentLogger, staticSite: dist() });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

const get = (path: string) => fetch(server.url + path, { redirect: "manual" });

describe("serving another Framework project's output", () => {
  it("answers 503 with the command until the output exists, then serves it", async () => {
    const before = await get("/");
    expect(before.status).toBe(503);
    expect(await before.text()).toContain("lakebook build");
    await write("index.html", "<!doctype html><h1>Home</h1>");
    await write(
      "charts.html",
      '<link rel="modulepreload" href="./_npm/vega@6.4.0/3f5bc465.js"><h1>Charts</h1>',
    );
    const home = await get("/");
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("<h1>Home</h1>");
  });

  it("allows eval only on the page that loads Vega", async () => {
    const home = (await get("/")).headers.get("content-security-policy") ?? "";
    const charts = (await get("/charts")).headers.get("content-security-policy") ?? "";
    expect(home).toMatch(/script-src 'self' 'wasm-unsafe-eval'/);
    expect(home).not.toContain("'unsafe-eval'");
    expect(charts).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'/);
  });

  it("sees a rebuilt output on the next request", async () => {
    await write("index.html", "<!doctype html><h1>Home again</h1>");
    expect(await (await get("/")).text()).toContain("<h1>Home again</h1>");
  });

  it("answers a missing favicon with no content instead of a 404", async () => {
    const response = await get("/favicon.ico");
    expect(response.status).toBe(204);
    await write("favicon.ico", "icon");
    expect(await (await get("/favicon.ico")).text()).toBe("icon");
  });
});

describe("the page policy", () => {
  it("recognizes Vega by the path Framework gives its files, not by the word", () => {
    expect(needsEval('<link rel="modulepreload" href="../_npm/vega@6.4.0/x.js">')).toBe(true);
    expect(needsEval('<link rel="modulepreload" href="./_npm/vega-lite@6.4.3/x.js">')).toBe(false);
    expect(needsEval("<p>vega@6 is a library</p>")).toBe(false);
    expect(pagePolicy([], { evaluates: true })).toContain("'unsafe-eval'");
    expect(pagePolicy([])).not.toContain("'unsafe-eval'");
  });
});
