import { stat } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSite } from "../../src/site/index.ts";
import { launchChromium } from "../../src/sources/index.ts";
import { createSiteFixture, type SiteFixture } from "./fixture.ts";
import { startStaticServer, type StaticServer } from "./staticServer.ts";

describe("the explorer helper in Chromium", () => {
  let fixture: SiteFixture;
  let server: StaticServer;
  let browser: Browser;
  let parquetPath: string;

  beforeAll(async () => {
    fixture = await createSiteFixture();
    parquetPath = join(fixture.root, "sales.parquet");
    const duckdb = await DuckDBInstance.create(":memory:");
    const connection = await duckdb.connect();
    // Sorted by k with small row groups, so a selective query can skip most of the file.
    await connection.run(
      `COPY (SELECT i AS id, i // 20000 AS k, 'item-' || i AS name, i * 1.5 AS price FROM range(200000) t(i) ORDER BY k)
       TO '${parquetPath}' (FORMAT parquet, ROW_GROUP_SIZE 20000)`,
    );
    connection.closeSync();
    duckdb.closeSync();
    const build = await buildSite(fixture.config);
    server = await startStaticServer(build.dir, { "/lake/sales.parquet": parquetPath });
    browser = await launchChromium({
      // Any host but loopback fails to resolve: an off-origin request cannot succeed.
      extraArgs: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fixture?.cleanup();
  });

  it("queries Parquet over HTTP range reads with every request on the site's own origin", async () => {
    const context = await browser.newContext();
    const requested: string[] = [];
    context.on("request", (request) => requested.push(request.url()));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("worker", (worker) => worker.on("console", () => {}));
    await page.goto(`${server.origin}/explore`);
    await page.locator("#count").filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(await page.locator("#count").textContent()).toBe("20000");
    expect(await page.locator("#sum").textContent()).toBe("60000");
    console.log("DuckDB in the browser:", await page.locator("#version").textContent());

    const offOrigin = requested.filter((url) => !url.startsWith(server.origin) && !/^(data|blob):/.test(url));
    expect(offOrigin).toEqual([]);
    const served = server.requests.map((r) => r.path);
    expect(served.some((p) => /duckdb-browser-(eh|mvp)\.worker\.[0-9a-f]{8}\.js$/.test(p))).toBe(true);
    expect(served.some((p) => /duckdb-(eh|mvp)\.wasm$/.test(p))).toBe(true);

    const parquet = server.requests.filter((r) => r.path === "/lake/sales.parquet");
    const size = (await stat(parquetPath)).size;
    const transferred = parquet.reduce((sum, r) => sum + r.bytes, 0);
    expect(parquet.filter((r) => r.method === "GET").every((r) => r.status === 206)).toBe(true);
    // Footer plus the one row group `k = 3` selects: a small fraction of the file.
    expect(transferred).toBeLessThan(size / 4);
    console.log(`Parquet: ${transferred} of ${size} bytes in ${parquet.length} requests`);
    await context.close();
  });

  it("renders Plot, d3 and Inputs from vendored modules with the self-hosted font", async () => {
    const context = await browser.newContext();
    const requested: string[] = [];
    context.on("request", (request) => requested.push(request.url()));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.origin}/`);
    await page.locator("svg").first().waitFor({ timeout: 15_000 });
    await page.locator("input[type=range]").first().waitFor();
    expect(await page.locator("#total").textContent()).toBe("4");
    const fontLoaded = await page.evaluate(async () => {
      await document.fonts.ready;
      return document.fonts.check('16px "Source Serif 4"');
    });
    expect(fontLoaded).toBe(true);
    expect(errors).toEqual([]);
    expect(requested.filter((url) => !url.startsWith(server.origin) && !/^(data|blob):/.test(url))).toEqual(
      [],
    );
    await context.close();
  });
});
