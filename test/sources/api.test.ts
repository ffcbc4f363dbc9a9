import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listLanded } from "../../src/lake/index.ts";
import { createHostLimiter, listRuns, runApiSource } from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { type FixtureSite, startFixtureSite } from "./fixtureSite.ts";
import { addedKeys, lakeListing, newLake, recordingSleep } from "./lakeHelpers.ts";

const tempDir = useTempDirs();
const FAST = { retries: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5_000 };
const http = { retry: FAST, limiter: createHostLimiter({ minIntervalMs: 0, concurrency: 4 }) };

describe("JSON API source", () => {
  let site: FixtureSite;
  beforeAll(async () => {
    site = await startFixtureSite();
  });
  afterAll(async () => site?.close());
  beforeEach(() => {
    site.resetFailures();
    site.setItemsVersion(1);
  });

  it("follows cursor pagination and lands every page", async () => {
    const lake = await newLake(tempDir);
    const result = await runApiSource(
      { lake },
      {
        source: "items",
        url: `${site.origin}/api/items`,
        itemsPath: "data",
        pagination: { kind: "cursor", param: "cursor", nextCursorPath: "next_cursor" },
        http,
      },
    );
    expect(result.items.map((item) => (item as { id: number }).id)).toEqual([1, 2, 3, 4, 5]);
    expect(result).toMatchObject({ pages: 3, created: 3, notModified: 0 });
    expect(await listLanded(lake.storage, "items")).toHaveLength(3);
    const [run] = await listRuns(lake.storage, "items");
    expect(await listRuns(lake.storage)).toEqual([run]);
    expect(run).toMatchObject({ status: "succeeded", rows: 5, created: 3, kind: "api" });
    expect(run!.bytes).toBeGreaterThan(0);
  });

  it("sends the remembered ETag and lands nothing when the API answers 304", async () => {
    const lake = await newLake(tempDir);
    const spec = {
      source: "items",
      url: `${site.origin}/api/items`,
      itemsPath: "data",
      pagination: { kind: "cursor", param: "cursor", nextCursorPath: "next_cursor" } as const,
      http,
    };
    await runApiSource({ lake }, spec);
    const before = await lakeListing(lake);
    const again = await runApiSource({ lake }, spec);
    expect(site.lastHeaders.get("/api/items")?.["if-none-match"]).toBe('"items-4-v1"');
    expect(again).toMatchObject({ pages: 3, notModified: 3, created: 0 });
    expect(again.items).toHaveLength(5);
    const added = addedKeys(before, await lakeListing(lake));
    // Only the run record is new; landings and the remembered validators are untouched.
    expect(added.filter((key) => !key.includes("/_runs/"))).toEqual([]);
    expect(again.run).toMatchObject({ status: "succeeded", created: 0, bytes: 0 });

    site.setItemsVersion(2);
    const changed = await runApiSource({ lake }, spec);
    expect(changed).toMatchObject({ notModified: 0, created: 3 });
    expect((changed.items[0] as { version: number }).version).toBe(2);
  });

  it("sends If-Modified-Since from the remembered Last-Modified and reuses the landed copy on 304", async () => {
    const lake = await newLake(tempDir);
    const spec = { source: "dated", url: `${site.origin}/api/dated`, itemsPath: "items", http };
    expect(await runApiSource({ lake }, spec)).toMatchObject({ created: 1, notModified: 0 });
    const again = await runApiSource({ lake }, spec);
    expect(site.lastHeaders.get("/api/dated")?.["if-modified-since"]).toBe("Wed, 01 May 2024 00:00:00 GMT");
    expect(again).toMatchObject({ created: 0, notModified: 1, items: [{ id: 1 }] });
  });

  it("pages by offset and limit until a short page", async () => {
    const lake = await newLake(tempDir);
    const result = await runApiSource(
      { lake },
      { source: "offset", url: `${site.origin}/api/offset`, pagination: { kind: "offset", limit: 2 }, http },
    );
    expect(result.items).toHaveLength(5);
    expect(result.pages).toBe(3);
  });

  it("follows Link rel=next headers", async () => {
    const lake = await newLake(tempDir);
    const result = await runApiSource(
      { lake },
      {
        source: "linked",
        url: `${site.origin}/api/linked`,
        itemsPath: "items",
        pagination: { kind: "link" },
        http,
      },
    );
    expect(result.items).toEqual([{ page: 1 }, { page: 2 }, { page: 3 }]);
  });

  it("waits as long as Retry-After asks after a 429, then succeeds", async () => {
    const lake = await newLake(tempDir);
    const { sleep, delays } = recordingSleep();
    const result = await runApiSource(
      { lake, sleep },
      { source: "limited", url: `${site.origin}/api/limited`, itemsPath: "items", http },
    );
    expect(result.items).toEqual([{ ok: true }]);
    expect(delays).toEqual([1000]);
    expect(site.hits.get("/api/limited")).toBe(2);
  });

  it("fails instead of stalling when Retry-After is longer than allowed", async () => {
    const lake = await newLake(tempDir);
    await expect(
      runApiSource(
        { lake },
        {
          source: "limited",
          url: `${site.origin}/api/limited`,
          itemsPath: "items",
          http: { ...http, retry: { ...FAST, maxRetryAfterMs: 500 } },
        },
      ),
    ).rejects.toThrow(
      /asks to retry after 1 s, longer than the 0.5 s allowed; run again later or raise maxRetryAfterMs/,
    );
  });

  it("retries a flaky endpoint with backoff: fails twice, then succeeds", async () => {
    const lake = await newLake(tempDir);
    const { sleep, delays } = recordingSleep();
    const result = await runApiSource(
      { lake, sleep },
      {
        source: "flaky",
        url: `${site.origin}/api/flaky`,
        itemsPath: "items",
        http: { ...http, retry: { ...FAST, baseDelayMs: 100, maxDelayMs: 1000 } },
      },
    );
    expect(result.items).toEqual([{ ok: true }]);
    expect(delays).toHaveLength(2);
    // Full jitter: attempt n waits at most base * 2^n.
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  it("fails after the retries are used up, saying how many attempts were made", async () => {
    const lake = await newLake(tempDir);
    const { sleep } = recordingSleep();
    await expect(
      runApiSource({ lake, sleep }, { source: "down", url: `${site.origin}/api/down`, http }),
    ).rejects.toThrow(/GET .*\/api\/down failed after 4 attempts: .*HTTP 503/);
    expect((await listRuns(lake.storage, "down"))[0]).toMatchObject({ status: "failed" });
  });

  it("marks the run failed on invalid JSON, keeps the body as a snapshot and changes nothing else", async () => {
    const lake = await newLake(tempDir);
    await runApiSource(
      { lake },
      { source: "bad", url: `${site.origin}/api/linked`, itemsPath: "items", http },
    );
    const before = await lakeListing(lake);
    const error = await runApiSource(
      { lake },
      { source: "bad", url: `${site.origin}/api/invalid`, itemsPath: "items", http },
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/returned invalid JSON/);
    const snapshot = /snapshot (landing\/source=bad-snapshots\/\S+\.txt)/.exec(message)?.[1];
    expect(snapshot).toBeDefined();
    expect((await lake.storage.read(snapshot!)).toString()).toBe('{"items": [1, 2');
    const added = addedKeys(before, await lakeListing(lake));
    expect(
      added.every((key) => key.startsWith("landing/source=bad-snapshots/") || key.includes("/_runs/")),
    ).toBe(true);
    const runs = await listRuns(lake.storage, "bad");
    expect(runs.map((run) => run.status)).toEqual(["succeeded", "failed"]);
    expect(runs[1]!.error?.message).toContain(snapshot);
    expect(runs[1]!.snapshots).toEqual([snapshot]);
  });

  it("fails on an HTML error page served with 200 instead of JSON", async () => {
    const lake = await newLake(tempDir);
    await expect(
      runApiSource({ lake }, { source: "errpage", url: `${site.origin}/api/errorpage`, http }),
    ).rejects.toThrow(
      /answered 200 with an HTML page .*instead of JSON.*snapshot landing\/source=errpage-snapshots\/.*\.html/,
    );
    expect(await listLanded(lake.storage, "errpage")).toEqual([]);
  });

  it("sends header values from stored secrets and never records them", async () => {
    const { randomBytes } = await import("node:crypto");
    const { createSecretStore } = await import("../../src/sources/index.ts");
    const lake = await newLake(tempDir);
    const secrets = createSecretStore({ dir: await tempDir(), key: randomBytes(32) });
    await secrets.set("api-token", "Bearer s3cr3t-token");
    const result = await runApiSource(
      { lake, secrets },
      {
        source: "authed",
        url: `${site.origin}/api/linked`,
        itemsPath: "items",
        headerSecrets: { authorization: "api-token" },
        headers: { "x-api-token": "inline-token-value" },
        http,
      },
    );
    expect(site.lastHeaders.get("/api/linked")?.authorization).toBe("Bearer s3cr3t-token");
    const recorded = JSON.stringify(await listRuns(lake.storage, "authed"));
    expect(recorded).not.toContain("s3cr3t");
    expect(recorded).not.toContain("inline-token-value");
    expect(result.run.parameters.headerSecrets).toEqual({ authorization: "api-token" });
  });
});
