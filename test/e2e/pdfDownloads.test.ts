/**
 * PDF snapshots and data downloads on the real notebooks, built offline and served by the real
 * server with a PostgreSQL store, in Chromium: the market report's PDF opens (its title, one
 * page or more) and is rendered once, a reader outside the group of `/quality` gets the page's
 * 403 for its PDF too; the report's "All rows" table downloads as CSV and as Parquet (written by
 * DuckDB-WASM in the page, read back by DuckDB in Node) holding exactly the rows the table shows;
 * the catalog and the explorer offer whole datasets to readers with access.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLake, maybeHead } from "../../src/lake/index.ts";
import { readPdfFacts, readPdfText } from "../helpers/pdf.ts";
import { PASSWORD, addUser } from "../server/authHelpers.ts";
import { openTestStore, type TestStore } from "../server/store.ts";
import { type E2eSite, startE2eSite } from "./setup.ts";

// Parquet downloads start DuckDB-WASM (17 MB) in the page, on a shared 2-core machine.
vi.setConfig({ testTimeout: 180_000 });

let site: E2eSite;
let db: TestStore;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  db = await openTestStore();
  await db.store.setAccessRule({ path: "/quality", groups: ["quality"] });
  await addUser(db.store, "vera", "viewer");
  await addUser(db.store, "quinn", "viewer", ["quality"]);
  site = await startE2eSite({ store: db.store });
}, 400_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await site?.close();
  await db?.drop();
});

async function signedIn(user: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await site.browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  contexts.push(context);
  const login = await context.request.post(`${site.server.url}/auth/login`, {
    data: { username: user, password: PASSWORD },
  });
  expect(login.status()).toBe(200);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return { context, page, errors };
}

async function renders(): Promise<number> {
  const metrics = await (await fetch(`${site.server.url}/metrics`)).text();
  return Number(/lakebook_pdf_snapshots_total\{outcome="rendered"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

/** The rows of the market report's data file as the build published it. */
async function marketRows(): Promise<{ ticker: string; date: string; close: string }[]> {
  const folder = join(site.config.siteDir, "current", "_file", "data");
  const name = (await readdir(folder)).find((file) => /^market\.[0-9a-f]+\.json$/.test(file));
  const market = JSON.parse(await readFile(join(folder, name!), "utf8")) as {
    rows: { ticker: string; date: string; close: string }[];
  };
  return market.rows;
}

const line = (ticker: string, date: string, close: string | number) =>
  `${ticker}|${date}|${Number(close).toFixed(4)}`;

describe("PDF snapshots of the real notebooks", () => {
  it("the market report's PDF opens, is linked from the page and is rendered once", async () => {
    const { context, page, errors } = await signedIn("vera");
    await page.goto(`${site.server.url}/`, { waitUntil: "networkidle" });
    expect(await page.getAttribute("[data-testid=pdf-link]", "href")).toBe("/index.pdf");
    const before = await renders();
    const first = await context.request.get(`${site.server.url}/index.pdf`);
    expect(first.status()).toBe(200);
    expect(first.headers()["x-lakebook-pdf"]).toBe("rendered");
    const bytes = await first.body();
    const facts = readPdfFacts(bytes);
    expect(facts.title).toBe("Market overview | Lakebook");
    expect(facts.pages).toBeGreaterThanOrEqual(1);
    const text = readPdfText(bytes);
    console.log(
      `market report PDF: ${bytes.length} bytes, ${facts.pages} page(s), ${text.length} characters of text`,
    );
    // The cells rendered before printing: the headings, the charts' axis labels, the tables' rows.
    for (const expected of [
      "Market overview",
      "Monthly close",
      "Close (USD)",
      "Latest close",
      "All rows",
      "AAPL",
    ])
      expect(text).toContain(expected);
    // Screen-only parts are left out: the sidebar, the sign-in line, the download buttons, the PDF link.
    for (const hidden of ["Signed in as", "Sign out", "Parquet", "Explorer", "Sources", "PDF"])
      expect(text).not.toContain(hidden);
    const second = await context.request.get(`${site.server.url}/index.pdf`);
    expect(second.headers()["x-lakebook-pdf"]).toBe("cached");
    expect((await second.body()).equals(bytes)).toBe(true);
    expect(await renders()).toBe(before + 1);
    expect(errors).toEqual([]);
  });

  it("refuses a reader outside the page's group with the page's own 403", async () => {
    const { context } = await signedIn("vera");
    const pageAnswer = await context.request.get(`${site.server.url}/quality`);
    const pdfAnswer = await context.request.get(`${site.server.url}/quality.pdf`);
    expect(pageAnswer.status()).toBe(403);
    expect(pdfAnswer.status()).toBe(403);
    expect(await pdfAnswer.text()).toBe(await pageAnswer.text());
    const member = await signedIn("quinn");
    const allowed = await member.context.request.get(`${site.server.url}/quality.pdf`);
    expect(allowed.status()).toBe(200);
    expect(readPdfFacts(await allowed.body()).title).toBe("Data quality | Lakebook");
  });
});

describe("downloads of the data behind tables and charts", () => {
  it("the All rows table downloads as CSV and Parquet holding the page's rows", async () => {
    const { page, errors } = await signedIn("vera");
    await page.goto(`${site.server.url}/`, { waitUntil: "networkidle" });
    // The table shows the tickers selected by default: every one but the S&P 500.
    const expected = (await marketRows())
      .filter((row) => row.ticker !== "SPX")
      .map((row) => line(row.ticker, row.date, row.close))
      .sort();
    expect(expected.length).toBeGreaterThan(100);
    const buttons = page.locator('[data-testid=downloads][data-name="prices"]');
    // Cells render after the network went idle: wait for the table's buttons, then count them all.
    await buttons.waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator("[data-testid=downloads]").count()).toBe(4); // 2 charts, 2 tables

    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      buttons.locator("[data-testid=download-csv]").click(),
    ]);
    expect(csv.suggestedFilename()).toBe("prices.csv");
    const text = await readFile((await csv.path())!, "utf8");
    const [header, ...lines] = text.trimEnd().split("\r\n");
    expect(header).toBe("ticker,date,closeText");
    expect(
      lines
        .map((l) => l.split(","))
        .map(([t, d, c]) => line(t!, d!, c!))
        .sort(),
    ).toEqual(expected);

    const [parquet] = await Promise.all([
      page.waitForEvent("download", { timeout: 120_000 }),
      buttons.locator("[data-testid=download-parquet]").click(),
    ]);
    expect(parquet.suggestedFilename()).toBe("prices.parquet");
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const path = (await parquet.path())!;
      const types = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
      expect(types.getRowObjectsJS().map((r) => `${r.column_name} ${r.column_type}`)).toEqual([
        "ticker VARCHAR",
        "date DATE",
        "closeText DECIMAL(18,4)",
      ]);
      const rows = await connection.runAndReadAll(
        `SELECT ticker, CAST(date AS VARCHAR) AS date, CAST(closeText AS VARCHAR) AS close FROM read_parquet('${path}')`,
      );
      const read = rows.getRowObjectsJS().map((r) => line(String(r.ticker), String(r.date), String(r.close)));
      expect(read.sort()).toEqual(expected);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    expect(errors).toEqual([]);
  });

  it("the catalog and the explorer offer the whole dataset to readers with access", async () => {
    const { context, page } = await signedIn("vera");
    await page.goto(`${site.server.url}/catalog`, { waitUntil: "networkidle" });
    const href = await page
      .locator("[data-testid=dataset-curated-prices] [data-testid=download-dataset-csv]")
      .getAttribute("href");
    expect(href).toBe("/api/datasets/curated/prices/download?format=csv");
    const head = await maybeHead(createLake(site.config).storage, "curated", "prices");
    const csv = await context.request.get(`${site.server.url}${href}`);
    expect(csv.status()).toBe(200);
    expect((await csv.text()).trimEnd().split("\n")).toHaveLength(head!.rowCount + 1);

    await page.goto(`${site.server.url}/explorer`, { waitUntil: "networkidle" });
    const parquetHref = await page
      .locator('[data-dataset="curated.prices"] [data-testid=download-dataset-parquet]')
      .getAttribute("href");
    expect(parquetHref).toBe(`/api/datasets/curated/prices/download?format=parquet&version=${head!.version}`);
    const parquet = await context.request.get(`${site.server.url}${parquetHref}`);
    expect(parquet.status()).toBe(200);
    expect((await parquet.body()).subarray(0, 4).toString("latin1")).toBe("PAR1");
    // Anonymous readers of this private site get no data.
    expect((await fetch(`${site.server.url}${href}`)).status).toBe(401);
  });
});
