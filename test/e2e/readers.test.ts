/**
 * What a reader sees, on this repository's notebooks built offline once and served by the real
 * server with a PostgreSQL record store, in one Chromium: every kind of page — the notebooks
 * (a page per ticker included), the catalog and a dataset's catalog entry, the explorer, quality,
 * sources, runs, sign-in and sign-out, the API docs, and the 403 and 404 pages — at desktop
 * (1280 px) and phone (390 px) width fits the screen (anything wider scrolls inside its own box)
 * and logs no console error; the search box finds pages. A screenshot of each goes to
 * test-output/screenshots/<width>/<page>.png (git-ignored) for review.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLake, maybeHead } from "../../src/lake/index.ts";
import { maybeCurrentBuild } from "../../src/site/index.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import { addUser, login } from "../server/authHelpers.ts";
import { openTestStore, type TestStore } from "../server/store.ts";
import { type E2eSite, startE2eSite } from "./setup.ts";

const SHOTS = join(REPO_ROOT, "test-output", "screenshots");

type Reader = "anonymous" | "ana" | "vera";
/** Screenshot name, path, who opens it (ana: analyst in finance; vera: viewer outside it), status. */
const PAGES: readonly [string, string, Reader, number][] = [
  ["index", "/", "ana", 200],
  ["ticker-AAPL", "/ticker/AAPL", "ana", 200],
  ["catalog", "/catalog", "ana", 200],
  ["catalog-entry", "/catalog/curated/prices", "ana", 200],
  ["explorer", "/explorer", "ana", 200],
  ["quality", "/quality", "ana", 200],
  ["sources", "/sources", "ana", 200],
  ["runs", "/runs", "ana", 200],
  ["api-docs", "/api/docs", "ana", 200],
  ["login", "/auth/login", "anonymous", 200],
  ["logout", "/auth/logout", "ana", 200],
  ["403", "/sources", "vera", 403],
  ["404", "/no-such-page", "ana", 404],
];

let db: TestStore;
let site: E2eSite;
const cookies: Partial<Record<Reader, string>> = {};

beforeAll(async () => {
  db = await openTestStore();
  await addUser(db.store, "ana", "analyst", ["finance"]);
  await addUser(db.store, "vera", "viewer");
  await addUser(db.store, "root", "admin");
  // The sources page is for the finance group: vera, outside it, gets the refusal page.
  await db.store.setAccessRule({ path: "/sources", groups: ["finance"] });
  site = await startE2eSite({
    store: db.store,
    // The build as `lakebook build` records it, so page stamps name (and link) its data versions.
    async prepare(config) {
      const id = (await maybeCurrentBuild(config.siteDir))!;
      const head = await maybeHead(createLake(config).storage, "curated", "prices");
      await db.store.startBuild({ id, startedAt: new Date() });
      await db.store.finishBuild(id, {
        status: "succeeded",
        finishedAt: new Date(),
        durationMs: 1,
        dataVersions: { prices: head!.version },
        error: null,
      });
    },
  });
  cookies.ana = (await login(site.server.url, "ana")).cookie;
  cookies.vera = (await login(site.server.url, "vera")).cookie;
  await mkdir(join(SHOTS, "1280"), { recursive: true });
  await mkdir(join(SHOTS, "390"), { recursive: true });
}, 900_000);

afterAll(async () => {
  await site?.close();
  await db?.drop();
});

describe.each([1280, 390])("every page at %i px", (width) => {
  it.each(PAGES)("%s (%s as %s) fits the screen and logs no error", async (name, path, reader, status) => {
    const tracked = await site.open(path, { width, height: 900 }, cookies[reader]);
    const { page } = tracked;
    const main = tracked.responses.find((r) => new URL(r.url).pathname === path && r.method === "GET");
    expect(main?.status, path).toBe(status);
    // Charts and tables render after the data loads.
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      // Elements wider than the screen that are not inside a box scrolling on its own.
      outside: [...document.querySelectorAll("body *")]
        .filter((element) => {
          if (element.getBoundingClientRect().right <= window.innerWidth + 1) return false;
          for (let parent = element.parentElement; parent; parent = parent.parentElement) {
            if (["auto", "scroll", "hidden"].includes(getComputedStyle(parent).overflowX)) return false;
          }
          return true;
        })
        .map((element) => `${element.tagName.toLowerCase()}.${element.className}`),
    }));
    await page.screenshot({ path: join(SHOTS, String(width), `${name}.png`), fullPage: true });
    expect(overflow.page, path).toBeLessThanOrEqual(width);
    expect(overflow.outside, path).toEqual([]);
    // The error pages' own status is the only "failed to load" a browser may report.
    const errors = tracked.consoleErrors.filter(
      (text) => !(status >= 400 && text.includes(`status of ${status}`)),
    );
    expect(errors, path).toEqual([]);
    expect(tracked.offOrigin, path).toEqual([]);
    await page.close();
  });
});

describe("pages per entity and catalog entries", () => {
  it("links one page per ticker from the overview, each showing that ticker's rows", async () => {
    const { page, consoleErrors } = await site.open("/", undefined, cookies.ana);
    const links = page.locator('[data-testid="ticker-links"] a');
    await links.first().waitFor();
    expect(await links.allInnerTexts()).toEqual(["AAPL", "AMZN", "GOOG", "IBM", "MSFT", "SPX"]);
    await Promise.all([page.waitForURL(/\/ticker\/IBM$/), links.filter({ hasText: "IBM" }).click()]);
    await page.locator('[data-testid="ticker-rows"]').waitFor();
    expect(await page.textContent("h1")).toBe("IBM");
    expect(Number(await page.textContent('[data-testid="ticker-rows"]'))).toBeGreaterThan(100);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("goes from a page's stamp to the dataset's catalog entry, and from there to the Explorer", async () => {
    const { page, consoleErrors } = await site.open("/", undefined, cookies.ana);
    await Promise.all([
      page.waitForURL(/\/catalog\/curated\/prices\?version=\d+$/),
      page.click("#lakebook-build a"),
    ]);
    expect(await page.textContent("h1")).toMatch(/^curated\/prices v\d+$/);
    expect(await page.textContent('[data-testid="entry-quality"]')).toMatch(/^(pass|warn)/);
    await Promise.all([page.waitForURL(/\/explorer#/), page.click('[data-testid="open-explorer"]')]);
    // The explorer runs the linked query over the pinned version: 100 rows.
    const status = page.locator("[data-testid=status][data-rows]");
    await status.waitFor({ timeout: 60_000 });
    // The editor (CodeMirror) holds the linked query as its text.
    expect((await page.locator("[data-testid=sql]").innerText()).trim()).toBe(
      "SELECT * FROM curated.prices LIMIT 100",
    );
    expect(Number(await status.getAttribute("data-rows"))).toBe(100);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});

describe("search", () => {
  it("finds a page by a word of its text", async () => {
    const { page } = await site.open("/", undefined, cookies.ana);
    await page.fill("#observablehq-search input", "expectation");
    const results = page.locator("#observablehq-search-results a");
    await results.first().waitFor();
    expect(await results.allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining("Data quality")]),
    );
    await page.close();
  });
});
