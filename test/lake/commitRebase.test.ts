/**
 * Rebase-and-retry commits (src/lake/commit.ts): a write that loses the commit race redoes only
 * its commit on the new head, as often as it takes within its time budget, and a write that does
 * not commit leaves no orphan behind.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { marketSteps, runMarketPipeline, stocksSpec } from "../helpers/market.ts";

const STOCKS = await stocksSpec();
const MARKET_STEPS = await marketSteps();
import { VersionConflictError } from "../../src/errors.ts";
import {
  type Lake,
  type Manifest,
  type Storage,
  collectGarbage,
  commitVersion,
  createLake,
  landBytes,
  listVersionNumbers,
  maybeHead,
  newWriteId,
  readManifest,
  verifyVersion,
} from "../../src/lake/index.ts";
import { type PromotionStep, ingestCsv, promote, readSnapshot } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

/** A storage whose version commits first run `before` (e.g. a competing writer's commit). */
function intercepting(storage: Storage, before: (key: string) => Promise<void>) {
  const stored: string[] = [];
  const wrapped: Storage = {
    location: storage.location,
    read: (key) => storage.read(key),
    maybeRead: (key) => storage.maybeRead(key),
    write: (key, data) => (stored.push(key), storage.write(key, data)),
    putFile: (key, path) => (stored.push(key), storage.putFile(key, path)),
    localPath: (key) => storage.localPath(key),
    stat: (key) => storage.stat(key),
    list: (prefix) => storage.list(prefix),
    delete: (key) => storage.delete(key),
    async writeIfAbsent(key, data) {
      if (key.includes("/_versions/")) await before(key);
      return storage.writeIfAbsent(key, data);
    },
  };
  return { storage: wrapped, stored };
}

/** Commits a copy of the head under a new write id: another writer's version, as far as the lake knows. */
async function competingCommit(lake: Lake, zone: "raw" | "staging" | "curated", dataset: string) {
  const head = (await maybeHead(lake.storage, zone, dataset)) as Manifest;
  const { formatVersion: _f, version: _v, parent: _p, createdAt: _c, ...draft } = head;
  await commitVersion(
    lake.storage,
    zone,
    { ...draft, writeId: newWriteId() },
    { expectedParent: head.version },
  );
}

const csvOf = (symbol: string, rows: number) =>
  "symbol,date,price\n" +
  Array.from(
    { length: rows },
    (_, i) => `${symbol},Jan ${(i % 28) + 1} ${2000 + Math.floor(i / 28)},${i + 1}.5`,
  ).join("\n") +
  "\n";

async function land(lake: Lake, csv: string) {
  const { record } = await landBytes(lake.storage, {
    source: "feed",
    origin: "test",
    data: Buffer.from(csv),
    extension: "csv",
    contentType: "text/csv",
  });
  return record;
}

async function storeOrphans(lake: Lake) {
  const gc = await collectGarbage(lake, { graceMs: 0 });
  return gc.candidates.filter((c) => c.where === "store").map((c) => c.key);
}

describe("commits rebase on other writers' versions", () => {
  it("an ingest that loses the commit race five times in a row still commits, parsing its file once", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await ingestCsv(lake, await land(lake, csvOf("A", 3)), STOCKS);
    let competitors = 5;
    const { storage, stored } = intercepting(lake.storage, async () => {
      if (competitors-- > 0) await competingCommit(lake, "raw", "vega_stocks");
    });
    const result = await ingestCsv({ ...lake, storage }, await land(lake, csvOf("B", 5)), STOCKS);

    expect(result.created).toBe(true);
    expect(result.manifest.version).toBe(7);
    expect(result.manifest.parent).toBe(6);
    expect(result.manifest.rowCount).toBe(8);
    // One data file written, however many attempts the commit took.
    expect(stored.filter((key) => key.endsWith(".parquet"))).toHaveLength(1);
    expect(await verifyVersion(lake.storage, result.manifest)).toEqual([]);
    expect(await storeOrphans(lake)).toEqual([]);
  });

  it("eight concurrent ingests of different files into one dataset all commit, every row exactly once", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const symbols = ["A", "B", "C", "D", "E", "F", "G", "H"];
    const landings = await Promise.all(symbols.map((s, i) => land(lake, csvOf(s, 50 + i))));
    const results = await Promise.all(landings.map((landing) => ingestCsv(lake, landing, STOCKS)));

    expect(results.map((r) => r.created)).toEqual(symbols.map(() => true));
    expect(results.map((r) => r.manifest.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const head = (await maybeHead(lake.storage, "raw", "vega_stocks")) as Manifest;
    expect(head.version).toBe(8);
    expect(head.lineage.landing).toHaveLength(8);
    const rows = (await readSnapshot(lake, "raw", "vega_stocks")).rows;
    expect(rows).toHaveLength(8 * 50 + 28);
    const distinct = new Set(rows.map((r) => `${String(r.symbol)}|${String(r.date)}|${String(r.price)}`));
    expect(distinct.size).toBe(rows.length);
    for (const [i, symbol] of symbols.entries()) {
      expect(rows.filter((r) => r.symbol === symbol)).toHaveLength(50 + i);
    }
    for (const version of await listVersionNumbers(lake.storage, "raw", "vega_stocks")) {
      const manifest = await readManifest(lake.storage, "raw", "vega_stocks", version);
      expect(manifest.parent).toBe(version === 1 ? null : version - 1);
    }
    expect(await storeOrphans(lake)).toEqual([]);
  });

  it("of two concurrent ingests of the same file one commits; the loser deletes its data file", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const landing = await land(lake, csvOf("A", 20));
    const results = await Promise.all([ingestCsv(lake, landing, STOCKS), ingestCsv(lake, landing, STOCKS)]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(await listVersionNumbers(lake.storage, "raw", "vega_stocks")).toEqual([1]);
    expect(await storeOrphans(lake)).toEqual([]);
  });

  it("gives up once the time budget is spent, naming the setting, and leaves nothing behind", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake"), commitTimeoutMs: 0 });
    await ingestCsv(lake, await land(lake, csvOf("A", 3)), STOCKS);
    const { storage } = intercepting(lake.storage, () => competingCommit(lake, "raw", "vega_stocks"));
    const error = await ingestCsv({ ...lake, storage }, await land(lake, csvOf("B", 3)), STOCKS).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VersionConflictError);
    expect((error as Error).message).toMatch(
      /raw\/vega_stocks: other writers committed first 1 times .*LAKEBOOK_COMMIT_TIMEOUT/,
    );
    expect(await storeOrphans(lake)).toEqual([]);
  });

  it("a promotion whose inputs did not move commits its data on the new head without recomputing it", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await runMarketPipeline(lake, { suitesDir: await tempDir() });
    const step = {
      ...(MARKET_STEPS[1] as PromotionStep),
      sql: `SELECT ticker, date, close FROM "staging.prices" WHERE ticker <> 'SPX'`,
    };
    let competitors = 4;
    const { storage, stored } = intercepting(lake.storage, async () => {
      if (competitors-- > 0) await competingCommit(lake, "curated", "prices");
    });
    const result = await promote({ ...lake, storage }, step);
    expect(result.created).toBe(true);
    expect(result.manifest.version).toBe(6);
    expect(result.manifest.parent).toBe(5);
    expect(stored.filter((key) => key.endsWith(".parquet"))).toHaveLength(1);
    expect((await readSnapshot(lake, "curated", "prices")).rows.some((r) => r.ticker === "SPX")).toBe(false);
    expect(await storeOrphans(lake)).toEqual([]);
  });

  it("a promotion whose input moved is recomputed on the new input, and its first result deleted", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await runMarketPipeline(lake, { suitesDir: await tempDir() });
    const step = MARKET_STEPS[0] as PromotionStep;
    const later = await land(lake, csvOf("ZZZ", 4));
    let once = true;
    const { storage, stored } = intercepting(lake.storage, async (key) => {
      if (!once || !key.startsWith("staging/")) return;
      once = false;
      // Another writer ingests new raw rows and promotes them before this commit lands.
      await ingestCsv(lake, later, STOCKS);
      await promote(lake, step);
    });
    const before = (await maybeHead(lake.storage, "staging", "prices")) as Manifest;
    const result = await promote({ ...lake, storage }, { ...step, orderBy: ["date", "ticker"] });
    expect(result.created).toBe(true);
    expect(result.manifest.version).toBe(before.version + 2);
    const raw = (await maybeHead(lake.storage, "raw", "vega_stocks")) as Manifest;
    expect(result.manifest.lineage.inputs).toContainEqual({
      zone: "raw",
      dataset: "vega_stocks",
      version: raw.version,
    });
    expect(stored.filter((key) => key.startsWith("staging/") && key.endsWith(".parquet"))).toHaveLength(2);
    expect(
      (await readSnapshot(lake, "staging", "prices")).rows.filter((r) => r.ticker === "ZZZ"),
    ).toHaveLength(4);
    expect(await storeOrphans(lake)).toEqual([]);
  });
});
