/** `/api/docs`: the API reference rendered offline from the OpenAPI document, every operation in it. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../server/api/openapi.ts";
import type { RunningServer } from "../../server/index.ts";
import { createFixture, listen, type Fixture } from "./fixture.ts";

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

describe("/api/docs", () => {
  it("lists every operation of /api/openapi.json, with nothing from another origin and no script", async () => {
    const response = await fetch(`${server.url}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toContain("script-src 'none'");
    const html = await response.text();
    const document = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(5);
    for (const operation of operations)
      expect(html).toContain(`<code>${operation.replace(/[{}]/g, (c) => c)}</code>`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('href="/api/openapi.json"');
  });
});
