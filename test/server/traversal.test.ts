import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.ts";
import { createFixture, listen, rawRequest, type Fixture } from "./fixture.ts";

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

/** Raw request targets that try to leave the curated zone or the site build. */
const LAKE_ATTACKS = [
  "/lake/../etc/passwd",
  "/lake/curated/../raw/sales/data.parquet",
  "/lake/curated/sales/../../raw/sales/data.parquet",
  "/lake/curated/sales/./data.parquet",
  "/lake/curated/%2e%2e/raw/sales/data.parquet",
  "/lake/curated/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
  "/lake/curated/sales%2f..%2f..%2fraw%2fsales%2fdata.parquet",
  "/lake/curated/sales/..%2F..%2Fraw/sales/data.parquet",
  "/lake/curated/%252e%252e/raw/sales/data.parquet",
  "/lake/curated/sales/%252e%252e%252f%252e%252e%252fraw",
  "/lake/curated/sales\\..\\..\\raw\\sales\\data.parquet",
  "/lake/curated/sales/..%5c..%5craw%5csales%5cdata.parquet",
  "/lake/curated/sales/data.parquet%00.csv",
  "/lake/curated/sales/%00",
  "/lake//etc/passwd",
  "/lake/curated//etc/passwd",
  "/lake/curated/sales/%2fetc%2fpasswd",
  "/lake/curated/sales/%c0%ae%c0%ae/%c0%ae%c0%ae/raw",
  "/lake/curated/sales/%zz",
  "/lake/curated/sales/passwd.csv",
  "/lake/curated/rawlink/sales/data.parquet",
];

const SITE_ATTACKS = [
  "/../outside/secret.txt",
  "/../../../../etc/passwd",
  "/%2e%2e/outside/secret.txt",
  "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
  "/..%2foutside%2fsecret.txt",
  "/%252e%252e/outside/secret.txt",
  "/..\\outside\\secret.txt",
  "/_observablehq/../../../outside/secret.txt",
  "/_file/%2e%2e/%2e%2e/%2e%2e/outside/secret.txt",
  "/index.html%00.txt",
  "//etc/passwd",
  "///etc/passwd",
  "/leak.txt",
  "/%c0%ae%c0%ae/outside/secret.txt",
];

function expectRefused(response: { status: number; body: string }): void {
  expect([400, 404]).toContain(response.status);
  expect(response.body).not.toContain("root:");
  expect(response.body).not.toContain("secret outside");
  expect(response.body).not.toContain("PAR1");
  expect(response.body).not.toMatch(/\n\s+at /);
  expect(response.body).not.toContain(fixture.root);
}

describe("path traversal", () => {
  it.each(LAKE_ATTACKS)("lake: %s is refused with a short JSON body", async (path) => {
    const response = await rawRequest(server.port, path);
    expectRefused(response);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.body.length).toBeLessThan(300);
  });

  it.each(SITE_ATTACKS)("site: %s is refused", async (path) => {
    const response = await rawRequest(server.port, path);
    expectRefused(response);
  });

  it("refuses an absolute-form request target", async () => {
    const response = await rawRequest(server.port, "http://127.0.0.1/etc/passwd");
    expectRefused(response);
    expect(response.status).toBe(400);
  });

  it("answers HEAD traversal attempts without a body", async () => {
    const response = await rawRequest(server.port, "/lake/curated/%2e%2e/raw/sales/data.parquet", {
      method: "HEAD",
    });
    expect(response.status).toBe(400);
    expect(response.body).toBe("");
  });

  it("tells a malformed path (400) from a missing file (404) in plain words", async () => {
    const bad = await rawRequest(server.port, "/%2e%2e/outside/secret.txt");
    expect(bad.status).toBe(400);
    expect(bad.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(bad.body).toBe("bad request path: use plain names separated by '/'\n");
  });
});
