/**
 * The server's own pages in Chromium: the login form signs in under its strict policy, and the
 * Runs page's hashed script runs, follows a run live over Server-Sent Events and shows its log.
 * Any Content-Security-Policy violation or off-origin request fails the test.
 */
import type { Browser } from "playwright-core";
import { launchChromium } from "../../src/sources/index.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { PASSWORD, addUser } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;
let server: RunningServer;
let browser: Browser;

const jobs = {
  steps: async ({
    log,
    progress,
  }: {
    log: (level: "info", message: string) => void;
    progress: (n: number) => void;
  }) => {
    for (let i = 1; i <= 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      log("info", `step ${i} of 3`);
      progress(i / 3);
    }
  },
};

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
  await addUser(db.store, "ana", "analyst");
  server = await startServer(fixture.config, {
    logger: silentLogger,
    store: db.store,
    jobs,
    schedules: false,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

describe("login and runs pages in Chromium", () => {
  it("signs in through the form and follows a run live on the Runs page", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith(server.url)) problems.push(`off-origin ${request.url()}`);
    });
    await page.goto(`${server.url}/runs`);
    expect(new URL(page.url()).pathname).toBe("/auth/login");
    await page.fill("#username", "ana");
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/runs`), page.click("button[type=submit]")]);
    await page.click('button[data-job="steps"]');
    await page.waitForSelector("#runs tbody tr td.status-succeeded", { timeout: 15_000 });
    const log = await page.textContent("#logs");
    expect(log).toContain("step 3 of 3");
    expect(await page.textContent("#runs tbody tr td:nth-child(6)")).toBe("100%");
    await Promise.all([
      page.waitForURL(`${server.url}/auth/login`),
      page.click("form[action='/auth/logout'] button"),
    ]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
