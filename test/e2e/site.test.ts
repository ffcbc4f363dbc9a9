import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maybeHead, createLake } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import { type E2eSite, type TrackedPage, startE2eSite } from "./setup.ts";

let site: E2eSite;
const opened: TrackedPage[] = [];

async function open(path: string, viewport?: { width: number; height: number }): Promise<TrackedPage> {
  const tracked = await site.open(path, viewport);
  opened.push(tracked);
  return tracked;
}

/** Line series Plot drew in a chart card: one path per ticker. */
async function seriesCount(tracked: TrackedPage, testId: string): Promise<number> {
  return tracked.page.locator(`[data-testid=${testId}] svg g[aria-label="line"] path`).count();
}

async function runQuery(tracked: TrackedPage, sql: string): Promise<void> {
  const { page } = tracked;
  await page.locator("[data-testid=sql]").fill(sql);
  await page.locator("[data-testid=sql]").press("Control+Enter");
}

beforeAll(async () => {
  site = await startE2eSite();
}, 360_000);

afterAll(async () => {
  await site?.close();
});

describe("market overview report", () => {
  it("draws one line per selected ticker and redraws when the selection changes", async () => {
    const report = await open("/");
    const { page } = report;
    await page.locator('[data-testid=price-chart] g[aria-label="line"]').first().waitFor();
    // Five stocks are selected by default; the S&P 500 index is opt-in.
    expect(await seriesCount(report, "price-chart")).toBe(5);
    expect(await seriesCount(report, "return-chart")).toBe(5);
    await page.getByLabel("SPX").check();
    await expect.poll(() => seriesCount(report, "price-chart")).toBe(6);
    await page.getByLabel("AAPL").uncheck();
    await page.getByLabel("IBM").uncheck();
    await expect.poll(() => seriesCount(report, "price-chart")).toBe(4);
    await expect.poll(() => seriesCount(report, "return-chart")).toBe(4);
  });

  it("does not load DuckDB-WASM, which only the explorer uses", async () => {
    const report = await open("/");
    await report.page.locator('[data-testid=price-chart] g[aria-label="line"]').first().waitFor();
    expect(report.responses.filter((r) => r.url.includes("duckdb"))).toEqual([]);
  });

  it("stamps the page with the data date and the curated version it was built from", async () => {
    const report = await open("/");
    const lake = createLake(site.config);
    const head = await maybeHead(lake.storage, "curated", "prices");
    await report.page.locator("[data-testid=as-of]").waitFor();
    const stamp = await report.page.locator("[data-testid=as-of]").innerText();
    expect(stamp).toContain("Data as of March 1, 2010");
    expect(stamp).toContain(`curated/prices version ${head?.version}`);
    expect(stamp).toContain(`${head?.rowCount} rows`);
  });

  it("fits a phone screen without horizontal scrolling", async () => {
    const report = await open("/", { width: 390, height: 844 });
    await report.page.locator('[data-testid=price-chart] g[aria-label="line"]').first().waitFor();
    const { scrollWidth, chartWidth } = await report.page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      chartWidth: (
        document.querySelector('[data-testid=price-chart] g[aria-label="line"]') as SVGGElement
      ).ownerSVGElement!.getBoundingClientRect().width,
    }));
    expect(scrollWidth).toBeLessThanOrEqual(390);
    expect(chartWidth).toBeLessThanOrEqual(390);
    expect(chartWidth).toBeGreaterThan(250);
  });
});

describe("data quality", () => {
  it("badges the report with the quality status of the version it shows", async () => {
    const report = await open("/");
    const badge = report.page.locator("[data-testid=quality-badge]");
    await badge.waitFor();
    expect(await badge.getAttribute("data-status")).toBe("pass");
    expect(await badge.innerText()).toMatch(/^Data quality: passed · curated\/prices v\d+$/);
    expect(await report.page.locator("[data-testid=quality-warning]").count()).toBe(0);
  });

  it("publishes the validation results as a Data quality page", async () => {
    const quality = await open("/quality");
    await quality.page.locator("[data-testid=pass-rate-chart] svg").first().waitFor();
    const statuses = await quality.page.locator("[data-testid=status]").allInnerTexts();
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === "pass")).toBe(true);
  });
});

describe("explorer", () => {
  it("returns the same count as DuckDB in Node on the same curated file, read with range requests", async () => {
    const lake = createLake(site.config);
    const head = await maybeHead(lake.storage, "curated", "prices");
    const path = await lake.storage.localPath(head!.files[0]!.key);
    const [expected] = await withDb((db) =>
      db.all(`SELECT count(*) AS n FROM ${parquetRelation([path])} WHERE ticker = 'MSFT' AND close > 25`),
    );

    const explorer = await open("/explorer");
    const { page } = explorer;
    await page.locator("[data-testid=status][data-rows]").waitFor();
    await runQuery(explorer, "SELECT count(*) AS n FROM prices WHERE ticker = 'MSFT' AND close > 25");
    await expect.poll(() => page.locator("[data-testid=status]").getAttribute("data-rows")).toBe("1");
    const cell = await page.locator("[data-testid=grid] .lb-grid-body .lb-cell").last().innerText();
    expect(cell.trim()).toBe(expected?.n);
    expect(await page.locator("[data-testid=status]").innerText()).toMatch(
      /^1 row in \d+ ms · ran in this browser · ≈[\d.]+ (B|KiB) read$/,
    );

    const lakeReads = explorer.responses.filter((r) => r.url.includes("/lake/curated/prices/"));
    expect(lakeReads.length).toBeGreaterThan(0);
    expect(lakeReads.every((r) => r.status === 206)).toBe(true);
  });

  it("shows exact decimals, not floats", async () => {
    const explorer = await open("/explorer");
    const { page } = explorer;
    await page.locator("[data-testid=status][data-rows]").waitFor();
    await runQuery(explorer, "SELECT close FROM prices WHERE ticker = 'AAPL' ORDER BY date LIMIT 1");
    await expect
      .poll(() => page.locator("[data-testid=grid] .lb-grid-body .lb-cell").last().innerText())
      .toBe("25.9400");
  });

  it("explains bad SQL instead of showing a blank page, and recovers on the next query", async () => {
    const explorer = await open("/explorer");
    const { page } = explorer;
    await page.locator("[data-testid=status][data-rows]").waitFor();
    await runQuery(explorer, "SELEC nonsense FROM prices");
    const error = page.locator("[data-testid=error]");
    await error.waitFor({ state: "visible" });
    expect(await error.innerText()).toMatch(/^Query failed: Parser Error: syntax error at or near "SELEC"/);
    await runQuery(explorer, "SELECT * FROM no_such_table");
    await expect
      .poll(() => error.innerText())
      .toMatch(/Catalog Error: Table with name no_such_table does not exist/);
    await page.locator("[data-testid=sql]").fill("SELECT 42 AS answer");
    await page.locator("[data-testid=run]").click();
    await expect.poll(() => page.locator("[data-testid=status]").getAttribute("data-rows")).toBe("1");
    expect(await error.isHidden()).toBe(true);
  });
});

describe("every page opened above", () => {
  it("made zero requests to any other origin and logged no console errors", () => {
    expect(opened.length).toBeGreaterThanOrEqual(6);
    for (const tracked of opened) {
      expect(tracked.offOrigin, tracked.page.url()).toEqual([]);
      expect(tracked.consoleErrors, tracked.page.url()).toEqual([]);
    }
  });
});
