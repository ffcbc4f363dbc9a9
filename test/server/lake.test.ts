import { utimes } from "node:fs/promises";
import { join } from "node:path";
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

const PARQUET = "/lake/curated/sales/data.parquet";
const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  fetch(server.url + path, { headers, method });
const bytes = async (response: Response) => Buffer.from(await response.arrayBuffer());

describe("curated files", () => {
  it("serves the whole Parquet file with validators and no-cache", async () => {
    const response = await get(PARQUET);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/vnd.apache.parquet");
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("content-length")).toBe(String(fixture.parquet.length));
    expect(response.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(response.headers.get("last-modified")).toMatch(/GMT$/);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect((await bytes(response)).equals(fixture.parquet)).toBe(true);
  });

  it("answers HEAD with the length and no body, as DuckDB-WASM probes", async () => {
    const response = await get(PARQUET, {}, "HEAD");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(fixture.parquet.length));
    expect((await bytes(response)).length).toBe(0);
  });

  it.each([
    ["/lake/curated/sales/data.csv", "text/csv; charset=utf-8"],
    ["/lake/curated/sales/meta.json", "application/json"],
    ["/lake/curated/wasm/duckdb.wasm", "application/wasm"],
    ["/lake/curated/wasm/worker.js", "text/javascript; charset=utf-8"],
  ])("serves %s as %s", async (path, type) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(type);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("serves an empty file", async () => {
    const response = await get("/lake/curated/sales/empty.csv");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("0");
    expect(await response.text()).toBe("");
  });

  it("serves a file whose name needs percent-encoding", async () => {
    const response = await get("/lake/curated/ventes/donn%C3%A9es%20%C3%A9t%C3%A9.csv");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("mois,total\njuin,3\n");
  });

  it("follows a symlink that stays inside the curated zone", async () => {
    const response = await get("/lake/curated/sales/latest.parquet");
    expect(response.status).toBe(200);
    expect((await bytes(response)).equals(fixture.parquet)).toBe(true);
  });
});

describe("range requests", () => {
  it("answers a single range with 206 and exactly those bytes", async () => {
    const response = await get(PARQUET, { Range: "bytes=4-103" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 4-103/${fixture.parquet.length}`);
    expect(response.headers.get("content-length")).toBe("100");
    expect((await bytes(response)).equals(fixture.parquet.subarray(4, 104))).toBe(true);
  });

  it("answers a suffix range with the last bytes (the Parquet footer)", async () => {
    const size = fixture.parquet.length;
    const response = await get(PARQUET, { Range: "bytes=-100" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes ${size - 100}-${size - 1}/${size}`);
    const body = await bytes(response);
    expect(body.equals(fixture.parquet.subarray(size - 100))).toBe(true);
    expect(body.subarray(-4).toString()).toBe("PAR1");
  });

  it("answers an open range up to the end of the file", async () => {
    const size = fixture.parquet.length;
    const response = await get(PARQUET, { Range: "bytes=100-" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-${size - 1}/${size}`);
    expect((await bytes(response)).equals(fixture.parquet.subarray(100))).toBe(true);
  });

  it("answers the first byte and the whole file as ranges", async () => {
    const size = fixture.parquet.length;
    const first = await get(PARQUET, { Range: "bytes=0-0" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-0/${size}`);
    expect((await bytes(first)).toString()).toBe("P");
    const all = await get(PARQUET, { Range: "bytes=0-" });
    expect(all.status).toBe(206);
    expect((await bytes(all)).equals(fixture.parquet)).toBe(true);
  });

  it("answers HEAD with Range as GET would (DuckDB-WASM's open probe needs the 206)", async () => {
    const response = await get(PARQUET, { Range: "bytes=0-" }, "HEAD");
    expect(response.status).toBe(206);
    expect(response.headers.get("content-length")).toBe(String(fixture.parquet.length));
    expect(response.headers.get("content-range")).toBe(
      `bytes 0-${fixture.parquet.length - 1}/${fixture.parquet.length}`,
    );
    const partial = await get(PARQUET, { Range: "bytes=0-9" }, "HEAD");
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-length")).toBe("10");
  });

  it("clamps a range that runs past the end", async () => {
    const size = fixture.parquet.length;
    const response = await get(PARQUET, { Range: `bytes=${size - 10}-${size + 1000}` });
    expect(response.status).toBe(206);
    expect((await bytes(response)).equals(fixture.parquet.subarray(size - 10))).toBe(true);
  });

  it("answers many ranges on one file, in parallel and in sequence, each with its exact slice", async () => {
    const size = fixture.parquet.length;
    const slices = Array.from({ length: 24 }, (_, i) => {
      const start = Math.floor((size / 24) * i);
      return { start, end: Math.min(size - 1, start + 997) };
    });
    const parallel = await Promise.all(
      slices.map(async ({ start, end }) => bytes(await get(PARQUET, { Range: `bytes=${start}-${end}` }))),
    );
    parallel.forEach((body, i) => {
      expect(body.equals(fixture.parquet.subarray(slices[i]!.start, slices[i]!.end + 1))).toBe(true);
    });
    for (const { start, end } of slices.slice(0, 6)) {
      const body = await bytes(await get(PARQUET, { Range: `bytes=${start}-${end}` }));
      expect(body.equals(fixture.parquet.subarray(start, end + 1))).toBe(true);
    }
  });

  it("answers 416 with the size when no range is satisfiable", async () => {
    const size = fixture.parquet.length;
    const response = await get(PARQUET, { Range: `bytes=${size}-${size + 10}` });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${size}`);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect((await response.json()).error.status).toBe(416);
  });

  it("answers 416 for any range of an empty file", async () => {
    const response = await get("/lake/curated/sales/empty.csv", { Range: "bytes=0-0" });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe("bytes */0");
  });

  it("answers several ranges in one header with 200 and the whole file", async () => {
    const response = await get(PARQUET, { Range: "bytes=0-9,100-199" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-range")).toBeNull();
    expect((await bytes(response)).equals(fixture.parquet)).toBe(true);
  });

  it("ignores a malformed or foreign-unit Range and sends 200", async () => {
    for (const range of ["bytes=abc", "bytes=10-5", "items=0-5", "bytes="]) {
      const response = await get(PARQUET, { Range: range });
      expect(response.status, range).toBe(200);
      expect((await bytes(response)).length).toBe(fixture.parquet.length);
    }
  });

  it("honours If-Range with the current ETag and sends 200 for a stale one", async () => {
    const etag = (await get(PARQUET, {}, "HEAD")).headers.get("etag")!;
    const fresh = await get(PARQUET, { Range: "bytes=0-9", "If-Range": etag });
    expect(fresh.status).toBe(206);
    expect((await bytes(fresh)).equals(fixture.parquet.subarray(0, 10))).toBe(true);
    const stale = await get(PARQUET, { Range: "bytes=0-9", "If-Range": '"0-0"' });
    expect(stale.status).toBe(200);
    expect((await bytes(stale)).length).toBe(fixture.parquet.length);
    const weak = await get(PARQUET, { Range: "bytes=0-9", "If-Range": `W/${etag}` });
    expect(weak.status).toBe(200);
    await weak.arrayBuffer();
  });

  it("honours If-Range with the Last-Modified date", async () => {
    const lastModified = (await get(PARQUET, {}, "HEAD")).headers.get("last-modified")!;
    const fresh = await get(PARQUET, { Range: "bytes=0-9", "If-Range": lastModified });
    expect(fresh.status).toBe(206);
    await fresh.arrayBuffer();
    const stale = await get(PARQUET, { Range: "bytes=0-9", "If-Range": "Thu, 01 Jan 1970 00:00:00 GMT" });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });
});

describe("conditional requests", () => {
  it("answers If-None-Match with the current ETag with 304 and no body", async () => {
    const etag = (await get(PARQUET, {}, "HEAD")).headers.get("etag")!;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const response = await get(PARQUET, { "If-None-Match": header });
      expect(response.status, header).toBe(304);
      expect(response.headers.get("etag")).toBe(etag);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect((await bytes(response)).length).toBe(0);
    }
  });

  it("sends the file again when the ETag differs", async () => {
    const response = await get(PARQUET, { "If-None-Match": '"stale"' });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });

  it("answers If-Modified-Since with 304 until the file changes", async () => {
    const lastModified = (await get(PARQUET, {}, "HEAD")).headers.get("last-modified")!;
    const unchanged = await get(PARQUET, { "If-Modified-Since": lastModified });
    expect(unchanged.status).toBe(304);
    const older = await get(PARQUET, { "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT" });
    expect(older.status).toBe(200);
    await older.arrayBuffer();
  });

  it("changes the ETag when the file changes", async () => {
    const path = join(fixture.root, "lake/curated/sales/data.csv");
    const before = (await get("/lake/curated/sales/data.csv", {}, "HEAD")).headers.get("etag");
    await utimes(path, new Date("2030-01-01T00:00:00Z"), new Date("2030-01-01T00:00:00Z"));
    const after = await get("/lake/curated/sales/data.csv", { "If-None-Match": before! });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before);
    expect(after.headers.get("last-modified")).toBe("Tue, 01 Jan 2030 00:00:00 GMT");
    await after.text();
  });

  it("answers a failed If-Match with 412", async () => {
    const response = await get(PARQUET, { "If-Match": '"stale"' });
    expect(response.status).toBe(412);
    await response.text();
  });
});

describe("what the lake does not serve", () => {
  it.each([
    "/lake/raw/sales/data.parquet",
    "/lake/landing/sales/page.html",
    "/lake/archive/sales/data.parquet",
    "/lake/curated/sales/_versions/v1/data.parquet",
    "/lake/curated/sales/.tmp-123",
    "/lake/curated/_catalog.json",
    "/lake/curated/sales",
    "/lake/curated/sales/",
    "/lake/curated",
    "/lake",
    "/lake/",
    "/lake/curated/rawlink/sales/data.parquet",
    "/lake/curated/sales/missing.parquet",
  ])("%s -> 404 with a JSON body", async (path) => {
    const response = await rawRequest(server.port, path);
    expect(response.status).toBe(404);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    const body = JSON.parse(response.body) as {
      error: { status: number; message: string };
      requestId: string;
    };
    expect(body.error.status).toBe(404);
    expect(body.requestId).toBe(response.headers["x-request-id"]);
    expect(response.body).not.toMatch(/raw|staging|archive|landing|version|catalog/i);
  });

  it("refuses a symlink in the curated zone that points to /etc/passwd", async () => {
    const response = await rawRequest(server.port, "/lake/curated/sales/passwd.csv");
    expect(response.status).toBe(404);
    expect(response.body).not.toContain("root:");
  });

  it.each(["POST", "PUT", "DELETE"])("answers %s with 405 and a JSON body", async (method) => {
    const response = await rawRequest(server.port, PARQUET, { method });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD");
    expect(JSON.parse(response.body).error.status).toBe(405);
  });
});
