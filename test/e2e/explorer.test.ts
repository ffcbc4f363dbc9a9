/**
 * The explorer in Chromium against the real offline build, the real server with a PostgreSQL
 * store, two readers and an access rule `/lake/curated/sales/` for the group finance: what each
 * reader sees, time travel, shared links across new versions, server-side queries and their
 * refusals, the grid (sort, facets, 100k rows), the chart, exports and a phone screen.
 */
import { readFile } from "node:fs/promises";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLake, maybeHead } from "../../src/lake/index.ts";
import { PASSWORD, addUser } from "../server/authHelpers.ts";
import { openTestStore, type TestStore } from "../server/store.ts";
import { commitRows } from "../quality/fixtures.ts";
import { type E2eSite, startE2eSite } from "./setup.ts";

// Every page loads DuckDB-WASM (17 MB) in a fresh browser context, on a shared 2-core machine.
vi.setConfig({ testTimeout: 180_000 });

let site: E2eSite;
let db: TestStore;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

beforeAll(async () => {
  db = await openTestStore();
  await db.store.setAccessRule({ path: "/lake/curated/sales/", groups: ["finance"] });
  await addUser(db.store, "finn", "viewer", ["finance"]);
  await addUser(db.store, "vera", "viewer");
  site = await startE2eSite({
    store: db.store,
    prepare: async (config) => {
      await commitRows(
        createLake(config),
        "curated",
        "sales",
        "SELECT 'Initech' AS customer, 1200 AS amount",
      );
    },
  });
}, 300_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await site?.close();
  await db?.drop();
});

/** A signed-in reader's page, recording console errors and every URL it requested. */
async function readerPage(user: string, viewport = { width: 1280, height: 900 }) {
  const context = await site.browser.newContext({ viewport, acceptDownloads: true });
  contexts.push(context);
  const login = await context.request.post(`${site.server.url}/auth/login`, {
    data: { username: user, password: PASSWORD },
  });
  expect(login.status()).toBe(200);
  const page = await context.newPage();
  const urls: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  page.on("console", (message) => {
    // A refused server-side query is a 400 that Chromium logs by itself; the page shows why.
    const refusedQuery = message.location().url.endsWith("/api/query") && message.text().includes("400");
    if (message.type() === "error" && !refusedQuery) problems.push(`${user}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`${user}: ${String(error)}`));
  return { page, urls };
}

async function openExplorer(page: Page, hash = ""): Promise<void> {
  await page.goto(`${site.server.url}/explorer${hash}`);
  await page.locator("[data-testid=status][data-rows]").waitFor({ timeout: 60_000 });
}

async function runQuery(page: Page, sql: string): Promise<void> {
  const before = await page.locator("[data-testid=status]").innerText();
  await page.locator("[data-testid=sql]").fill(sql);
  await page.locator("[data-testid=sql]").press("Control+Enter");
  await expect
    .poll(
      async () => {
        const text = await page.locator("[data-testid=status]").innerText();
        const error = await page.locator("[data-testid=error]").isVisible();
        return error || (text !== before && text !== "Running…" && text !== "");
      },
      { timeout: 60_000 },
    )
    .toBe(true);
}

/** The grid's visible rows as arrays of cell texts. */
async function gridRows(page: Page): Promise<string[][]> {
  return page
    .locator("[data-testid=grid] .lb-grid-body .lb-grid-row")
    .evaluateAll((rows) =>
      rows.map((row) => [...row.children].map((cell) => (cell as HTMLElement).innerText)),
    );
}

describe("datasets by access", () => {
  it("shows a reader outside finance no trace of its dataset, and the page works", async () => {
    const { page, urls } = await readerPage("vera");
    await openExplorer(page);
    expect(
      await page
        .locator("[data-testid=datasets] details")
        .evaluateAll((d) => d.map((e) => e.getAttribute("data-dataset"))),
    ).toEqual(["curated.prices"]);
    expect(Number(await page.locator("[data-testid=status]").getAttribute("data-rows"))).toBe(6);
    expect((await page.content()).toLowerCase()).not.toContain("sales");
    expect(urls.filter((url) => url.toLowerCase().includes("sales"))).toEqual([]);
    await runQuery(page, "SELECT * FROM curated.sales");
    expect(await page.locator("[data-testid=error]").innerText()).toContain(
      "no dataset curated.sales that you may read",
    );
    await runQuery(page, "SELECT 42 AS answer");
    expect(await gridRows(page)).toEqual([["42"]]);
  });

  it("lists the restricted dataset for a member of finance, with its schema, and queries it", async () => {
    const { page } = await readerPage("finn");
    await openExplorer(page);
    const entry = page.locator('[data-testid=datasets] details[data-dataset="curated.sales"]');
    await entry.locator("summary").click();
    expect(await entry.innerText()).toMatch(/version 1 · 1 rows[\s\S]*customer VARCHAR, amount INTEGER/);
    await runQuery(page, "SELECT customer, amount FROM curated.sales");
    expect(await gridRows(page)).toEqual([["Initech", "1200"]]);
  });
});

describe("queries", () => {
  it("runs on the server when asked, over the same version, and shows where it ran", async () => {
    const { page } = await readerPage("vera");
    await openExplorer(page);
    const sql =
      "SELECT ticker, max(close) AS high, min(date) AS first FROM prices GROUP BY ticker ORDER BY ticker";
    await runQuery(page, sql);
    const local = await gridRows(page);
    expect(await page.locator("[data-testid=status]").getAttribute("data-where")).toBe("browser");
    await page.locator("[data-testid=where]").selectOption("server");
    await runQuery(page, `${sql} `);
    expect(await page.locator("[data-testid=status]").getAttribute("data-where")).toBe("server");
    expect(await page.locator("[data-testid=status]").innerText()).toMatch(
      /ran on the server · [\d.]+ (B|KiB) transferred/,
    );
    expect(await gridRows(page)).toEqual(local);
    await runQuery(page, "SELECT * FROM read_csv('/etc/passwd')");
    expect(await page.locator("[data-testid=error]").innerText()).toContain("Permission Error");
    expect(await page.content()).not.toContain("root:x:0");
  });

  it("completes dataset and column names, runs on Ctrl+Enter and marks an error where it is", async () => {
    const { page } = await readerPage("vera");
    await openExplorer(page);
    const editor = page.locator("[data-testid=sql]");
    await editor.fill("");
    await editor.pressSequentially("SELECT * FROM cur");
    const option = (label: string) =>
      page.locator(".cm-tooltip-autocomplete li").filter({
        has: page.locator(".cm-completionLabel", { hasText: new RegExp(`^${label.replace(".", "\\.")}$`) }),
      });
    await option("curated.prices").click();
    await editor.pressSequentially(" WHERE clo");
    await option("close").click();
    expect(await editor.innerText()).toBe("SELECT * FROM curated.prices WHERE close");
    const before = await page.locator("[data-testid=status]").innerText();
    await editor.pressSequentially(" > 1000");
    await editor.press("Control+Enter");
    await expect.poll(() => page.locator("[data-testid=status]").innerText()).not.toBe(before);
    await page.locator("[data-testid=status][data-rows]").waitFor();
    expect(Number(await page.locator("[data-testid=grid-count]").getAttribute("data-rows"))).toBeGreaterThan(
      0,
    );

    // "WHER" reads as a table alias, so DuckDB stops at "close": after the rewritten reference.
    const bad = "SELECT ticker FROM curated.prices WHER close > 3";
    const caret = () =>
      page.evaluate(() => {
        const selection = window.getSelection()!;
        const range = document.createRange();
        range.setStart(document.querySelector(".cm-content")!, 0);
        range.setEnd(selection.anchorNode!, selection.anchorOffset);
        return range.toString().length;
      });
    for (const where of ["local", "server"]) {
      await page.locator("[data-testid=where]").selectOption(where);
      await runQuery(page, bad);
      expect(await page.locator("[data-testid=error]").innerText()).toContain("syntax error");
      expect(await page.locator(".cm-lintRange-error").innerText()).toBe("close");
      expect(await page.locator("[data-testid=error]").getAttribute("data-position")).toBe(
        String(bad.indexOf("close")),
      );
      expect(await caret()).toBe(bad.indexOf("close"));
    }
    await runQuery(page, "SELECT nope FROM prices");
    expect(await page.locator(".cm-lintRange-error").innerText()).toBe("nope");
  });

  it("travels in time with curated.prices@1 and keeps the history in the browser", async () => {
    const { page } = await readerPage("vera");
    await openExplorer(page);
    await runQuery(page, "SELECT count(*) AS n FROM curated.prices@1");
    expect(await gridRows(page)).toEqual([["683"]]);
    expect(await page.locator("[data-testid=history] option").allInnerTexts()).toContain(
      "SELECT count(*) AS n FROM curated.prices@1",
    );
  });

  it("sorts, filters by a clicked value, summarises columns, charts and exports the result", async () => {
    const { page } = await readerPage("vera");
    await openExplorer(page);
    await runQuery(page, "SELECT ticker, date, close FROM prices ORDER BY date, ticker");
    expect(await page.locator("[data-testid=grid-count]").getAttribute("data-rows")).toBe("683");
    expect(await page.locator("[data-testid=chart]").getAttribute("data-mark")).toBe("line");
    expect(await page.locator("[data-testid=chart] svg").count()).toBeGreaterThan(0);
    const summary = page.locator('[data-testid=column-summary] [data-column="ticker"]');
    expect(await summary.getAttribute("data-distinct")).toBe("6");
    await page.locator('button.lb-sort[data-column="close"]').click();
    await page.locator('button.lb-sort[data-column="close"]').click();
    const top = (await gridRows(page))[0];
    expect([top?.[0], top?.[2]]).toEqual(["SPX", "1549.3800"]);
    await page
      .locator("[data-testid=grid] .lb-grid-body .lb-grid-row")
      .first()
      .locator(".lb-cell")
      .first()
      .click();
    expect(await page.locator("[data-testid=facets]").innerText()).toMatch(/^ticker = SPX/);
    expect(await page.locator("[data-testid=grid-count]").innerText()).toBe("123 of 683 rows");
    expect(page.url()).toContain("&f=");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("[data-format=csv]").click(),
    ]);
    const csv = await readFile((await download.path())!, "utf8");
    expect(csv.split("\r\n").filter(Boolean)).toHaveLength(124);
    expect(csv.split("\r\n")[0]).toBe("ticker,date,close");
    const [parquet] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("[data-format=parquet]").click(),
    ]);
    expect((await readFile((await parquet.path())!)).subarray(0, 4).toString()).toBe("PAR1");
    await page.locator("[data-testid=chart-mark]").selectOption("dot");
    await expect.poll(() => page.locator("[data-testid=chart]").getAttribute("data-mark")).toBe("dot");
    expect(page.url()).toContain("mark=dot");
  });

  it("keeps 100,000 rows scrollable with only the visible rows in the page", async () => {
    const { page } = await readerPage("vera");
    await openExplorer(page);
    await runQuery(page, "SELECT range AS i, range % 7 AS k FROM range(100000)");
    expect(await page.locator("[data-testid=grid-count]").getAttribute("data-rows")).toBe("100000");
    expect(await page.locator("[data-testid=grid] .lb-grid-body .lb-grid-row").count()).toBeLessThan(100);
    await page.locator("[data-testid=grid]").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(async () => (await gridRows(page)).at(-1)?.[0]).toBe("99999");
  });

  it("fits a phone screen without horizontal scrolling", async () => {
    const { page } = await readerPage("vera", { width: 390, height: 844 });
    await openExplorer(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const editor = (await page.locator(".cm-editor").boundingBox())!;
    expect(editor.x + editor.width).toBeLessThanOrEqual(390);
    await runQuery(
      page,
      "SELECT 'a long line that wraps inside the editor instead of widening the page' AS text, 1 AS n",
    );
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });
});

describe("delivery", () => {
  /** When `data` was first requested and when Framework's runtime had arrived. */
  async function requestOrder(path: string, data: (url: string) => boolean, ready: string) {
    const { page } = await readerPage("vera");
    const seen: { url: string; type: string; start: number; end: number }[] = [];
    page.on("requestfinished", async (request) => {
      const timing = request.timing();
      const type = (await request.response())?.headers()["content-type"] ?? "";
      seen.push({
        url: request.url(),
        type,
        start: timing.startTime,
        end: timing.startTime + timing.responseEnd,
      });
    });
    await page.goto(`${site.server.url}${path}`);
    await page.locator(ready).first().waitFor({ timeout: 60_000 });
    await page.waitForLoadState("networkidle");
    // Framework's runtime entry: no cell runs before it has arrived, so without a preload no data
    // request can start before its end.
    const client = seen.find((s) => /\/_observablehq\/client\.[\w-]*\.?js/.test(s.url));
    const request = seen.find((s) => data(s.url));
    return { dataStart: request?.start ?? Infinity, runtimeArrived: client?.end ?? -Infinity };
  }

  it("requests a report page's data and the explorer's datasets before Framework's runtime has arrived", async () => {
    const report = await requestOrder(
      "/",
      (url) => url.includes("/_file/data/market."),
      "[data-testid=price-chart] svg",
    );
    expect(report.dataStart).toBeLessThan(report.runtimeArrived);
    const explorer = await requestOrder(
      "/explorer",
      (url) => url.endsWith("/api/explorer/datasets"),
      "[data-testid=status][data-rows]",
    );
    expect(explorer.dataStart).toBeLessThan(explorer.runtimeArrived);
  });
});

describe("shared links", () => {
  it("reopens the same rows for another reader after a new version lands, and offers the current one", async () => {
    const vera = await readerPage("vera");
    await openExplorer(vera.page);
    await runQuery(vera.page, "SELECT ticker, count(*) AS n FROM prices GROUP BY ticker ORDER BY ticker");
    const shared = new URL(vera.page.url());
    const rows = await gridRows(vera.page);
    expect(rows).toHaveLength(6);
    const lake = createLake(site.config);
    const head = await maybeHead(lake.storage, "curated", "prices");
    expect(shared.hash).toContain(`v=curated.prices%40${head!.version}`);

    const path = await lake.storage.localPath(head!.files[0]!.key);
    await commitRows(
      lake,
      "curated",
      "prices",
      `SELECT * FROM read_parquet('${path}') WHERE ticker <> 'IBM'`,
    );

    const finn = await readerPage("finn");
    await openExplorer(finn.page, shared.hash);
    expect(await gridRows(finn.page)).toEqual(rows);
    const notice = finn.page.locator("[data-testid=version-notice]");
    expect(await notice.innerText()).toContain(
      `curated.prices version ${head!.version} (version ${head!.version + 1} is current)`,
    );
    await finn.page.locator("[data-testid=use-current]").click();
    await expect.poll(async () => (await gridRows(finn.page)).length).toBe(5);
    expect(await notice.isHidden()).toBe(true);
    expect(finn.page.url()).toContain(`v=curated.prices%40${head!.version + 1}`);
  });
});

describe("every explorer page opened above", () => {
  it("logged no console errors", () => {
    expect(problems).toEqual([]);
  });
});
