import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeConfig } from "../../src/config.ts";
import { runMarketPipeline } from "../helpers/market.ts";
import { createLake } from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { linkLoaders } from "../../src/site/index.ts";
import { type RunningServer, startPreview } from "../../server/index.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("lakebook preview", () => {
  let preview: RunningServer;
  let parquetPath: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lakebook-preview-"));
    const config = normalizeConfig({
      root: REPO_ROOT,
      lakeDir: join(dir, "lake"),
      siteDir: join(dir, "site"),
      port: 0,
    });
    const { curated } = await runMarketPipeline(createLake(config));
    parquetPath = `/lake/${curated.files[0]!.key}`;
    await linkLoaders(config);
    preview = await startPreview(config, { logger: silentLogger });
  });

  afterAll(async () => {
    await preview?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the notebooks through Framework's live preview", async () => {
    const response = await fetch(`${preview.url}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("<h1");
    expect(html).toContain("Market overview");
    // The preview client is the one that connects back for live reload.
    expect(html).toContain("/_observablehq/client.js");
  });

  it("serves the curated lake on the same origin, with range requests", async () => {
    const response = await fetch(`${preview.url}${parquetPath}`, { headers: { Range: "bytes=0-3" } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe("PAR1");
    expect((await fetch(`${preview.url}/lake/raw/vega_stocks/_versions/00000001.json`)).status).toBe(404);
  });

  it("accepts the live-reload WebSocket upgrade", async () => {
    const { port } = new URL(preview.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        path: "/_observablehq",
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": Buffer.from("lakebook-preview").toString("base64"),
        },
      });
      req.on("upgrade", (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      });
      req.on("response", (response) => resolve(response.statusCode ?? 0));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(101);
  });
});
