/**
 * Site assets compressed once at build (brotli and gzip beside each file) and chosen per request
 * by Accept-Encoding; ranges and clients that accept neither get the identity bytes.
 */
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.ts";
import { precompressBuild } from "../../src/site/precompress.ts";
import { BUILD_1, createFixture, listen, type Fixture } from "./fixture.ts";
import { request } from "node:http";

let fixture: Fixture;
let server: RunningServer;
const ASSET = "/_npm/big@1.0.0/index.abc123.js";
const SOURCE = Buffer.from(
  `export const rows = ${JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ i, name: `row ${i}` })))};\n`,
);

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write(`site/builds/${BUILD_1}${ASSET}`, SOURCE);
  const result = await precompressBuild(join(fixture.root, "site/builds", BUILD_1));
  expect(result.files).toBeGreaterThan(0);
  server = await listen(fixture.config);
});

afterAll(async () => {
  await server?.close();
  await fixture?.cleanup();
});

function get(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("precompressed assets", () => {
  it("sends brotli to a browser that accepts it, smaller and decoding to the same bytes", async () => {
    const response = await get(ASSET, { "accept-encoding": "gzip, deflate, br, zstd" });
    expect(response.status).toBe(200);
    expect(response.headers["content-encoding"]).toBe("br");
    expect(response.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(response.headers.vary).toBe("Accept-Encoding");
    expect(response.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(response.body.length).toBeLessThan(SOURCE.length / 3);
    expect(brotliDecompressSync(response.body)).toEqual(SOURCE);
  });

  it("sends gzip when brotli is not accepted, and the identity bytes when neither is", async () => {
    const gz = await get(ASSET, { "accept-encoding": "gzip, br;q=0" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body)).toEqual(SOURCE);
    const plain = await get(ASSET, {});
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toEqual(SOURCE);
  });

  it("answers a range request from the identity bytes", async () => {
    const response = await get(ASSET, { "accept-encoding": "br", range: "bytes=0-9" });
    expect(response.status).toBe(206);
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect(response.body).toEqual(SOURCE.subarray(0, 10));
  });
});
