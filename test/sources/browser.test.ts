import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Lake } from "../../src/lake/index.ts";
import { REDACTED_PATHS } from "../../src/logger.ts";
import {
  type BrowserSourceSpec,
  type SecretStore,
  createSecretStore,
  launchChromium,
  listRuns,
  runBrowserSource,
  sessionSecretName,
} from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { type FixtureSite, PASSWORD, TOTP_SEED, USERNAME, startFixtureSite } from "./fixtureSite.ts";
import { addedKeys, lakeListing, newLake } from "./lakeHelpers.ts";

const tempDir = useTempDirs();
const FAST_RETRY = { retries: 3, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 2000 };

describe("browser source (Chromium)", () => {
  let site: FixtureSite;
  let browser: Browser;

  beforeAll(async () => {
    [site, browser] = await Promise.all([startFixtureSite(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });
  beforeEach(() => site.resetFailures());

  async function setup(password = PASSWORD, seed = TOTP_SEED): Promise<{ lake: Lake; secrets: SecretStore }> {
    const lake = await newLake(tempDir);
    const secrets = createSecretStore({ dir: await tempDir(), key: randomBytes(32) });
    await secrets.set("fixture-password", password);
    await secrets.set("fixture-totp", seed);
    return { lake, secrets };
  }

  function spec(overrides: Partial<BrowserSourceSpec> = {}): BrowserSourceSpec {
    return {
      source: "fixture",
      urls: [`${site.origin}/app/prices`],
      login: {
        url: `${site.origin}/login`,
        username: USERNAME,
        passwordSecret: "fixture-password",
        totpSeedSecret: "fixture-totp",
        selectors: {
          username: "#username",
          password: "#password",
          submit: "#sign-in",
          totp: "#code",
          totpSubmit: "#verify",
        },
      },
      extract: { table: "#prices" },
      nextPage: "a.next",
      rateLimit: { minIntervalMs: 0, concurrency: 2 },
      retry: FAST_RETRY,
      timeoutMs: 5000,
      ...overrides,
    };
  }

  it("logs in with password and TOTP, follows pagination and lands the rows of every page", async () => {
    const { lake, secrets } = await setup();
    const logins = site.logins;
    const result = await runBrowserSource({ lake, secrets, browser }, spec());
    expect(site.logins).toBe(logins + 1);
    expect(result.logins).toBe(1);
    expect(result.pages.map((page) => new URL(page.url).search)).toEqual(["", "?page=2", "?page=3"]);
    expect(result.pages.flatMap((page) => page.rows)).toEqual([
      { Ticker: "T1", Price: "10.50" },
      { Ticker: "T2", Price: "21.00" },
      { Ticker: "T3", Price: "31.50" },
      { Ticker: "T4", Price: "42.00" },
      { Ticker: "T5", Price: "52.50" },
      { Ticker: "T6", Price: "63.00" },
    ]);
    expect(result.run).toMatchObject({ status: "succeeded", rows: 6, created: 3 });
  });

  it("reuses the saved session on the next run and logs in again only after it expired", async () => {
    const { lake, secrets } = await setup();
    await runBrowserSource({ lake, secrets, browser }, spec());
    // The session is stored encrypted: the cookie value is not in the file.
    expect(await secrets.get(sessionSecretName("fixture"))).toContain('"sid"');
    const logins = site.logins;
    const reused = await runBrowserSource({ lake, secrets, browser }, spec());
    expect(reused).toMatchObject({ sessionReused: true, logins: 0 });
    expect(site.logins).toBe(logins);
    // Same pages, same rows: nothing new is landed.
    expect(reused.run.created).toBe(0);

    site.expireSessions();
    const renewed = await runBrowserSource({ lake, secrets, browser }, spec());
    expect(renewed).toMatchObject({ sessionReused: false, logins: 1 });
    expect(site.logins).toBe(logins + 1);
    expect(renewed.pages).toHaveLength(3);
  });

  it("extracts a table rendered by script and captures the JSON the page fetched", async () => {
    const { lake, secrets } = await setup();
    const result = await runBrowserSource(
      { lake, secrets, browser },
      spec({
        urls: [`${site.origin}/app/live`],
        extract: { table: "#live", jsonUrlIncludes: "/app/api/live.json" },
      }),
    );
    expect(result.pages[0]!.rows).toEqual([
      { Symbol: "MSFT", Last: "39.81" },
      { Symbol: "IBM", Last: "100.52" },
    ]);
    expect(result.pages[0]!.json).toEqual([
      {
        quotes: [
          { symbol: "MSFT", last: "39.81" },
          { symbol: "IBM", last: "100.52" },
        ],
      },
    ]);
    // The JSON response is landed as fetched, beside the extracted rows.
    const origins = await Promise.all(
      result.run.landed.map(async (key) => JSON.parse((await lake.storage.read(key)).toString())),
    );
    expect(origins).toContainEqual({
      quotes: [
        { symbol: "MSFT", last: "39.81" },
        { symbol: "IBM", last: "100.52" },
      ],
    });
  });

  it("extracts several start pages in parallel, keeping their order", async () => {
    const { lake, secrets } = await setup();
    const result = await runBrowserSource(
      { lake, secrets, browser },
      spec({
        urls: [`${site.origin}/app/prices?page=3`, `${site.origin}/app/prices?page=2`],
        nextPage: undefined,
      }),
    );
    expect(result.pages.map((page) => page.rows[0]!.Ticker)).toEqual(["T5", "T3"]);
    // Both pages found the session missing; one login served them.
    expect(result.logins).toBe(1);
  });

  it("retries a page that fails twice with 503, then extracts it", async () => {
    const { lake, secrets } = await setup();
    const result = await runBrowserSource(
      { lake, secrets, browser },
      spec({ urls: [`${site.origin}/app/flaky`], nextPage: undefined }),
    );
    expect(result.pages[0]!.rows).toEqual([
      { Ticker: "T5", Price: "52.50" },
      { Ticker: "T6", Price: "63.00" },
    ]);
    expect(site.hits.get("/app/flaky")).toBeGreaterThanOrEqual(3);
  });

  it("keeps the per-host rate limit between navigations", async () => {
    const { lake, secrets } = await setup();
    const started = Date.now();
    await runBrowserSource(
      { lake, secrets, browser },
      spec({ rateLimit: { minIntervalMs: 300, concurrency: 1 } }),
    );
    // Three navigations with 300 ms between their starts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("fails a wrong password with a message, a screenshot and the HTML in landing", async () => {
    const { lake, secrets } = await setup("wrong password");
    const error = (await runBrowserSource({ lake, secrets, browser }, spec()).catch(
      (e: Error) => e,
    )) as Error;
    expect(error.message).toMatch(/login to .*\/login failed: the site rejected the username or password/);
    const snapshots = [...error.message.matchAll(/landing\/source=fixture-snapshots\/\S+?\.(png|html)/g)].map(
      (m) => m[0],
    );
    expect(snapshots.map((key) => key.split(".").pop()).sort()).toEqual(["html", "png"]);
    const html = (await lake.storage.read(snapshots.find((key) => key.endsWith(".html"))!)).toString();
    expect(html).toContain("Invalid username or password");
    const png = await lake.storage.read(snapshots.find((key) => key.endsWith(".png"))!);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    const [run] = await listRuns(lake.storage, "fixture");
    expect(run).toMatchObject({ status: "failed", rows: 0, landed: [] });
    expect(run!.snapshots.sort()).toEqual(snapshots.sort());
  });

  it("fails a wrong TOTP seed saying the one-time code was rejected", async () => {
    const { lake, secrets } = await setup(PASSWORD, "JBSWY3DPEHPK3PXP");
    await expect(runBrowserSource({ lake, secrets, browser }, spec())).rejects.toThrow(
      /rejected the one-time code .*snapshot saved to landing\/source=fixture-snapshots\//,
    );
  });

  it("fails a changed layout with a snapshot and leaves earlier landings untouched", async () => {
    const { lake, secrets } = await setup();
    await runBrowserSource({ lake, secrets, browser }, spec());
    const before = await lakeListing(lake);
    const error = (await runBrowserSource(
      { lake, secrets, browser },
      spec({ urls: [`${site.origin}/app/changed`], extract: { table: "#prices", timeoutMs: 500 } }),
    ).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(
      /extracting .*\/app\/changed: the selector '#prices' finds nothing .*snapshot saved to landing\/source=fixture-snapshots\/.*\.png and .*\.html/,
    );
    const added = addedKeys(before, await lakeListing(lake));
    expect(
      added.every((key) => key.startsWith("landing/source=fixture-snapshots/") || key.includes("/_runs/")),
    ).toBe(true);
    expect((await listRuns(lake.storage, "fixture")).map((run) => run.status)).toEqual([
      "succeeded",
      "failed",
    ]);
  });

  it("fails when a JSON response the page fetched is invalid, keeping the body", async () => {
    const { lake, secrets } = await setup();
    const error = (await runBrowserSource(
      { lake, secrets, browser },
      spec({
        urls: [`${site.origin}/app/badjson`],
        extract: { table: "#live", jsonUrlIncludes: "/app/api/bad.json" },
      }),
    ).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/bad\.json, which is not valid JSON/);
    const body = /snapshot (landing\/source=fixture-snapshots\/\S+\.txt)/.exec(error.message)?.[1];
    expect((await lake.storage.read(body!)).toString()).toBe('{"quotes": [');
  });

  it("refuses a saved session encrypted under another key, saying the key differs", async () => {
    const { lake, secrets } = await setup();
    const dir = secrets.dir;
    await createSecretStore({ dir, key: randomBytes(32) }).set(
      sessionSecretName("fixture"),
      '{"cookies":[],"origins":[]}',
    );
    await expect(runBrowserSource({ lake, secrets, browser }, spec())).rejects.toThrow(
      /cannot decrypt secret 'browser-session-fixture'.*LAKEBOOK_SECRET_KEY differs from the key used to store it/,
    );
    expect((await listRuns(lake.storage, "fixture"))[0]).toMatchObject({
      status: "failed",
      error: { code: "CONFIG" },
    });
  });

  it("never writes the password, the TOTP seed or the session cookie to the log", async () => {
    const { lake, secrets } = await setup();
    let log = "";
    const sink = new Writable({
      write(chunk, _encoding, done) {
        log += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, sink);
    await runBrowserSource({ lake, secrets, browser, logger }, spec());
    await runBrowserSource(
      { lake, secrets, browser, logger },
      spec({ urls: [`${site.origin}/app/changed`], extract: { table: "#prices", timeoutMs: 500 } }),
    ).catch(() => undefined);
    const session = JSON.parse(await secrets.get(sessionSecretName("fixture"))) as {
      cookies: { name: string; value: string }[];
    };
    const sid = session.cookies.find((cookie) => cookie.name === "sid")!.value;
    expect(log).toContain("source run succeeded");
    expect(log).toContain("source run failed");
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(TOTP_SEED);
    expect(log).not.toContain(sid);
    const records = JSON.stringify(await listRuns(lake.storage, "fixture"));
    expect(records).not.toContain(PASSWORD);
    expect(records).not.toContain(TOTP_SEED);
    expect(records).not.toContain(sid);
  });
});
