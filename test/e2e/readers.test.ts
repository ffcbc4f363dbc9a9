/**
 * What a reader sees, on the notebooks built offline and served by the real server: every page
 * (notebooks, sign-in, sign-out, runs, errors) at desktop (1280 px) and phone (390 px) width
 * fits the screen — anything wider scrolls inside its own box — and logs no console error; the
 * search box finds pages. Screenshots of each go to /tmp/lakebook-shots for review.
 */
import { mkdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eSite, startE2eSite } from "./setup.ts";

const SHOTS = "/tmp/lakebook-shots";
/** Pages and the status they answer with (this server runs without a record store). */
const PAGES: readonly [string, number][] = [
  ["/", 200],
  ["/catalog", 200],
  ["/explorer", 200],
  ["/quality", 200],
  ["/sources", 200],
  ["/auth/login", 200],
  ["/auth/logout", 200],
  ["/api/docs", 200],
  ["/runs", 503],
  ["/no-such-page", 404],
];

let site: E2eSite;

beforeAll(async () => {
  site = await startE2eSite();
  await mkdir(SHOTS, { recursive: true });
}, 400_000);

afterAll(async () => {
  await site?.close();
});

describe.each([1280, 390])("every page at %i px", (width) => {
  it.each(PAGES)("%s fits the screen and logs no error", async (path, status) => {
    const tracked = await site.open(path, { width, height: 900 });
    const { page } = tracked;
    const main = tracked.responses.find((r) => new URL(r.url).pathname === path && r.method === "GET");
    expect(main?.status).toBe(status);
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
    await page.screenshot({
      path: `${SHOTS}/${width}${path.replaceAll("/", "_") || "_"}.png`,
      fullPage: true,
    });
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

describe("search", () => {
  it("finds a page by a word of its text", async () => {
    const { page } = await site.open("/");
    await page.fill("#observablehq-search input", "expectation");
    const results = page.locator("#observablehq-search-results a");
    await results.first().waitFor();
    expect(await results.allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining("Data quality")]),
    );
    await page.close();
  });
});
