/**
 * A build started from the Runs page shows its steps as they happen: Chromium watches the page
 * while a real offline build of a small Lakebook project runs in the server, and must see the
 * build's phase and loader lines in the log panel and a progress between 0% and 100% while the
 * run is still running — not only once it has finished.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { launchChromium } from "../../src/sources/index.ts";
import { createSiteFixture, type SiteFixture } from "../site/fixture.ts";
import { PASSWORD, addUser } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: SiteFixture;
let db: TestStore;
let server: RunningServer;
let browser: Browser;

interface Seen {
  status: string;
  progress: string;
  log: string;
}

beforeAll(async () => {
  fixture = await createSiteFixture();
  // The default jobs (build, run) as `lakebook serve` has them.
  db = await openTestStore();
  await addUser(db.store, "ana", "analyst");
  server = await startServer(
    { ...fixture.config, port: 0 },
    { logger: silentLogger, store: db.store, schedules: false },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

describe("a build on the Runs page", () => {
  it("streams its phases, loaders and progress while it runs", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    await page.goto(`${server.url}/auth/login?next=/runs`);
    await page.fill("#username", "ana");
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/runs`), page.click("button[type=submit]")]);
    await page.click('button[data-job="build"]');

    // What a reader of the page sees, sampled until the run ends.
    const seen: Seen[] = [];
    const deadline = Date.now() + 600_000;
    for (;;) {
      const now = await page.evaluate((): Seen => {
        const row = document.querySelector("#runs tbody tr");
        const cells = row ? [...row.querySelectorAll("td")].map((td) => td.textContent ?? "") : [];
        return {
          status: cells[2] ?? "",
          progress: cells[5] ?? "",
          log: document.querySelector("#logs")?.textContent ?? "",
        };
      });
      seen.push(now);
      if (now.status === "succeeded" || now.status === "failed" || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const last = seen.at(-1)!;
    expect(last.status, last.log).toBe("succeeded");
    expect(last.log).toMatch(/published build \S+ in \d+ ms/);

    const running = seen.filter((s) => s.status === "running");
    // A loader line and the pages phase reached the page before the run was over.
    expect(running.some((s) => /loader\s+\S+: (ran in|rerun|reused)/.test(s.log))).toBe(true);
    expect(running.some((s) => /pages\s+\d+ built|pages\s+[\d.]+ s/.test(s.log))).toBe(true);
    // Progress moved through intermediate values, in order.
    const percents = running.map((s) => Number.parseInt(s.progress, 10)).filter((n) => !Number.isNaN(n));
    expect(percents.some((n) => n > 0 && n < 100)).toBe(true);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(last.progress).toBe("100%");
    expect(problems).toEqual([]);
    await page.close();
    // A build takes minutes on a busy 2-core machine; the page is sampled until it ends.
  }, 660_000);
});
