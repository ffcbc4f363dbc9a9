/**
 * The server's pages as readers see them in Chromium, with a real PostgreSQL store: an empty
 * /runs says what to do instead of showing an empty log bar; a notebook page carries the account
 * control; a refusal is a page naming the rule. Each at 1280 and 390 px, with no horizontal
 * overflow, no console error (a Content-Security-Policy violation is one), screenshots in
 * /tmp/lakebook-shots.
 */
import { mkdir } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { launchChromium } from "../../src/sources/index.ts";
import { PASSWORD, addUser } from "./authHelpers.ts";
import { BUILD_1, createFixture, page as fixturePage, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

const SHOTS = "/tmp/lakebook-shots";
let fixture: Fixture;
let db: TestStore;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write(
    `site/builds/${BUILD_1}/index.html`,
    fixturePage("Home", '\n<div id="observablehq-center"><main>Report</main></div>'),
  );
  await fixture.write(
    `site/builds/${BUILD_1}/.lakebook/access.json`,
    JSON.stringify([{ path: "/explorer", groups: ["finance"] }]),
  );
  db = await openTestStore();
  await addUser(db.store, "ana", "analyst");
  await addUser(db.store, "root", "admin");
  server = await startServer(fixture.config, {
    logger: silentLogger,
    store: db.store,
    schedules: false,
    jobs: {},
  });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

async function signedIn(width: number): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  const errors: string[] = [];
  page.on("console", (message) => {
    // Failed loads are checked by URL below: the refused page's 403 is expected, and the fixture's
    // bare pages (unlike Framework's) have no icon, so the browser asks for /favicon.ico.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      errors.push(message.text());
    }
  });
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (response.status() >= 400 && path !== "/explorer" && path !== "/favicon.ico") {
      errors.push(`${response.status()} ${path}`);
    }
  });
  await page.goto(`${server.url}/auth/login`);
  await page.fill("#username", "ana");
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click("button[type=submit]")]);
  return { page, errors };
}

async function fits(page: Page, width: number, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/server-${width}-${name}.png`, fullPage: true });
  expect(await page.evaluate(() => document.documentElement.scrollWidth), name).toBeLessThanOrEqual(width);
}

describe.each([1280, 390])("server pages at %i px", (width) => {
  it("an empty /runs explains itself and shows no empty log", async () => {
    const { page, errors } = await signedIn(width);
    expect(await page.textContent("#lakebook-account")).toContain("Signed in as ana");
    await page.goto(`${server.url}/runs`);
    expect(await page.textContent("#runs-empty")).toContain("No runs yet");
    expect(await page.isVisible("#logs")).toBe(false);
    expect(await page.isVisible("#log-title")).toBe(false);
    await fits(page, width, "runs-empty");
    await page.goto(`${server.url}/explorer`);
    expect(await page.textContent("#error-message")).toContain("group 'finance'");
    expect(await page.textContent("#error-message")).toContain("ask an admin (root)");
    await fits(page, width, "403");
    await page.goto(`${server.url}/auth/logout`);
    await fits(page, width, "logout");
    await Promise.all([page.waitForURL(`${server.url}/auth/login`), page.click("button[type=submit]")]);
    expect(errors, JSON.stringify(errors)).toEqual([]);
    await page.close();
  });
});
