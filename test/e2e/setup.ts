/**
 * The e2e fixture: this repository's notebooks built offline (in an empty network namespace, only
 * loopback up) into a temp lake and site, served by the real server on a free port, and one
 * headless Debian Chromium. Every page a test opens records off-origin requests and console
 * errors, which the tests assert are empty.
 */
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { inject } from "vitest";
import { type Config, normalizeConfig } from "../../src/config.ts";
import { createLake } from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { launchChromium } from "../../src/sources/index.ts";
import { type RunningServer, type ServerEffects, startServer } from "../../server/index.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import { runMarketPipeline } from "../helpers/market.ts";
import { buildOffline } from "../helpers/offlineBuild.ts";

export interface E2eSite {
  config: Config;
  server: RunningServer;
  browser: Browser;
  /**
   * Opens a page that records what the tests check on every page; `cookie` (`name=value`, e.g. a
   * session from test/server/authHelpers.ts `login`) signs the page in.
   */
  open(path: string, viewport?: { width: number; height: number }, cookie?: string): Promise<TrackedPage>;
  close(): Promise<void>;
}

export interface TrackedPage {
  page: Page;
  offOrigin: string[];
  consoleErrors: string[];
  responses: { url: string; status: number; method: string }[];
}

export interface E2eOptions {
  /** The record store (users, access rules); none: the site is open for reading. */
  readonly store?: ServerEffects["store"];
  /** Runs after the build, before the server starts (e.g. commits more datasets). */
  readonly prepare?: (config: Config) => Promise<void>;
}

/**
 * Gives `config` a lake and site holding the market demo built offline: built once per test run
 * into the run's shared folder (test/globalSetup.ts), then copied, so every file starts from the
 * same state and may change its own copy.
 */
async function sharedBuild(config: Config): Promise<void> {
  const provided = inject("e2eCacheDir");
  const shared = provided ?? (await mkdtemp(join(tmpdir(), "lakebook-e2e-once-")));
  const ready = join(shared, "ready");
  if (!existsSync(ready)) {
    const lakeDir = join(shared, "lake");
    const siteDir = join(shared, "site");
    await rm(lakeDir, { recursive: true, force: true });
    await rm(siteDir, { recursive: true, force: true });
    // Loaders only read the lake: the project's sources and models run first, as `lakebook demo` does.
    await runMarketPipeline(createLake({ ...config, lakeDir }));
    const built = await buildOffline(REPO_ROOT, { lakeDir, siteDir });
    if (!built.ok)
      throw new Error(`the offline build of the notebooks failed: ${JSON.stringify(built.error)}`);
    await writeFile(ready, "");
  }
  await cp(join(shared, "lake"), config.lakeDir, { recursive: true, verbatimSymlinks: true });
  await cp(join(shared, "site"), config.siteDir, { recursive: true, verbatimSymlinks: true });
  if (!provided) await rm(shared, { recursive: true, force: true });
}

export async function startE2eSite(options: E2eOptions = {}): Promise<E2eSite> {
  const dir = await mkdtemp(join(tmpdir(), "lakebook-e2e-"));
  const config = normalizeConfig({
    root: REPO_ROOT,
    lakeDir: join(dir, "lake"),
    siteDir: join(dir, "site"),
    port: 0,
  });
  await sharedBuild(config);

  await options.prepare?.(config);
  const server = await startServer(config, {
    logger: silentLogger,
    // The files sign in many readers from one address within a minute; the login rate limit
    // itself is tested in test/server/auth.test.ts.
    login: { attemptsPerWindow: 1_000 },
    ...(options.store && { store: options.store, schedules: false }),
  });
  const browser = await launchChromium();
  const origin = new URL(server.url).origin;
  return {
    config,
    server,
    browser,
    async open(path, viewport = { width: 1280, height: 900 }, cookie) {
      const context = await browser.newContext({ viewport });
      if (cookie) {
        const [name, ...value] = cookie.split("=");
        await context.addCookies([{ name: name!, value: value.join("="), url: server.url }]);
      }
      const page = await context.newPage();
      page.on("close", () => void context.close());
      const tracked: TrackedPage = { page, offOrigin: [], consoleErrors: [], responses: [] };
      page.on("request", (request) => {
        const url = request.url();
        if (!url.startsWith(`${origin}/`) && !url.startsWith("data:") && !url.startsWith("blob:")) {
          tracked.offOrigin.push(url);
        }
      });
      page.on("response", (response) =>
        tracked.responses.push({
          url: response.url(),
          status: response.status(),
          method: response.request().method(),
        }),
      );
      page.on("console", (message) => {
        if (message.type() === "error") tracked.consoleErrors.push(message.text());
      });
      page.on("pageerror", (error) => tracked.consoleErrors.push(String(error)));
      await page.goto(`${server.url}${path}`, { waitUntil: "networkidle" });
      return tracked;
    },
    async close() {
      await browser.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
