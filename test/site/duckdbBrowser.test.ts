import { stat } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLake } from "../../src/lake/index.ts";
import { promote, readSnapshot } from "../../src/pipeline/index.ts";
import { buildSite } from "../../src/site/index.ts";
import { launchChromium } from "../../src/sources/index.ts";
import { createSiteFixture, type SiteFixture } from "./fixture.ts";
import { startStaticServer, type StaticServer } from "./staticServer.ts";
import { APPENDS, append, step } from "../pipeline/fixtures/incrementalModel.ts";

/** A page reading the files of an incremental model's version with DuckDB-WASM. */
function incrementalPage(urls: string[]): string {
  return `# Incremental

\`\`\`js
import {openDuckDB, registerDatasetVersion, query} from "./components/duckdb.js";
const db = await openDuckDB();
await registerDatasetVersion(db, {zone: "curated", dataset: "inc", version: 1, files: ${JSON.stringify(urls.map((url) => ({ url })))}});
const result = await query(db, 'SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d, sum(id * 1000 + rev)::DOUBLE AS s, sum(amount2)::DOUBLE AS a FROM "curated@1"."inc"');
const row = result.get(0);
\`\`\`

<p id="incremental-rows">\${[row.n, row.d, row.s, row.a].join(" ")}</p>
`;
}

describe("the explorer helper in Chromium", () => {
  let fixture: SiteFixture;
  let server: StaticServer;
  let browser: Browser;
  let parquetPath: string;
  let incrementalExpected: string;
  let incrementalFiles: number;

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
    // An incremental model after every append, and the same model rebuilt in full to compare with.
    const lake = createLake({ lakeDir: join(fixture.root, "incremental-lake") });
    let incremental;
    for (const rows of APPENDS) {
      await append(lake, rows);
      incremental = await promote(lake, step("inc", true));
    }
    await promote(lake, step("full", false));
    const full = (await readSnapshot(lake, "curated", "full")).rows;
    incrementalExpected = [
      full.length,
      full.length,
      full.reduce((sum, r) => sum + Number(r.id) * 1000 + Number(r.rev), 0),
      // In cents, so the sum is exact, as DuckDB's sum of the DECIMAL column.
      full.reduce((sum, r) => sum + Math.round(Number(r.amount2) * 100), 0) / 100,
    ].join(" ");
    const lakeFiles: Record<string, string> = { "/lake/sales.parquet": parquetPath };
    for (const file of incremental!.manifest.files)
      lakeFiles[`/lake/${file.key}`] = await lake.storage.localPath(file.key);
    incrementalFiles = incremental!.manifest.files.length;
    await fixture.write("notebooks/incremental.md", incrementalPage(Object.keys(lakeFiles).slice(1)));
    const build = await buildSite(fixture.config);
    server = await startStaticServer(build.dir, lakeFiles);
    browser = await launchChromium({
      // Any host but loopback fails to resolve: an off-origin request cannot succeed.
      extraArgs: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
    });
    // A site build and five promotions: slower than the default hook timeout on a loaded machine.
  }, 360_000);

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

  it("reads an incremental model's files with the rows of a full rebuild", async () => {
    expect(incrementalFiles).toBeGreaterThan(1);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.origin}/incremental`);
    await page.locator("#incremental-rows").filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(await page.locator("#incremental-rows").textContent()).toBe(incrementalExpected);
    expect(server.requests.filter((r) => r.path.startsWith("/lake/curated/inc/") && r.status >= 400)).toEqual(
      [],
    );
    await page.close();
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
