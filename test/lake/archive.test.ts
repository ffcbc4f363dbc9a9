import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMarketPipeline } from "../helpers/market.ts";
import {
  type Lake,
  archiveVersions,
  collectGarbage,
  createLake,
  listArchivedVersions,
  listVersionNumbers,
  maybeHead,
  readArchivedManifest,
  readManifest,
  restoreVersion,
  verifyVersion,
} from "../../src/lake/index.ts";
import { quoteLiteral, readSnapshot, withDb } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const DAY = 24 * 60 * 60 * 1000;

/** A lake whose curated/prices and raw/vega_stocks have versions 1, 2 and 3. */
async function lakeWithThreeVersions(): Promise<Lake> {
  const dir = await tempDir();
  const lake = createLake({ lakeDir: join(dir, "lake") });
  await runMarketPipeline(lake, { now: new Date("2026-01-01T00:00:00Z") });
  for (const [day, price] of [
    ["02", "40.00"],
    ["03", "41.00"],
  ]) {
    const csv = join(dir, `correction-${day}.csv`);
    await writeFile(csv, `symbol,date,price\nMSFT,Jan 1 2000,${price}\n`);
    await runMarketPipeline(lake, { stocksPath: csv, now: new Date(`2026-01-${day}T00:00:00Z`) });
  }
  return lake;
}

const later = () => new Date(Date.now() + 2 * DAY);

describe("retention and archive", () => {
  it("archives only versions older than the policy and never the current one", async () => {
    const lake = await lakeWithThreeVersions();
    const young = await archiveVersions(lake, "curated", "prices", {
      policy: { olderThanMs: 30 * DAY },
      apply: true,
    });
    expect(young.versions).toEqual([]);
    const dryRun = await archiveVersions(lake, "curated", "prices", {
      policy: { olderThanMs: DAY },
      now: later,
    });
    expect(dryRun.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2, 3]);
    await archiveVersions(lake, "curated", "prices", {
      policy: { olderThanMs: DAY },
      now: later,
      apply: true,
    });
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([3]);
    expect(await listArchivedVersions(lake.storage, "curated", "prices")).toEqual([1, 2]);
    expect((await maybeHead(lake.storage, "curated", "prices"))?.version).toBe(3);
  });

  it("keeps the newest versions the policy asks for", async () => {
    const lake = await lakeWithThreeVersions();
    const result = await archiveVersions(lake, "curated", "prices", {
      policy: { olderThanMs: 0, keepLatest: 2 },
      now: later,
      apply: true,
    });
    expect(result.versions.map((v) => v.version)).toEqual([1]);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([2, 3]);
  });

  it("stores archived data as ZSTD Parquet and says how to restore an archived version", async () => {
    const lake = await lakeWithThreeVersions();
    await archiveVersions(lake, "curated", "prices", { policy: { olderThanMs: 0 }, now: later, apply: true });
    const archived = await readArchivedManifest(lake.storage, "curated", "prices", 1);
    expect(archived.files[0]?.key).toMatch(/^archive\/curated\/prices\/data\/[0-9a-f]{64}\.parquet$/);
    const path = await lake.storage.localPath(archived.files[0]!.key);
    const [meta] = await withDb((db) =>
      db.all(
        `SELECT list_distinct(list(compression)) AS codecs FROM parquet_metadata(${quoteLiteral(path)})`,
      ),
    );
    expect(meta?.codecs).toEqual(["ZSTD"]);
    expect(await verifyVersion(lake.storage, archived)).toEqual([]);
    await expect(readManifest(lake.storage, "curated", "prices", 1)).rejects.toThrow(
      "curated/prices version 1 is archived: run 'lakebook lake restore curated/prices 1' to read it",
    );
  });

  it("restores an archived version under its own number with the same rows", async () => {
    const lake = await lakeWithThreeVersions();
    const before = await readSnapshot(lake, "curated", "prices", { version: 1 });
    await archiveVersions(lake, "curated", "prices", { policy: { olderThanMs: 0 }, now: later, apply: true });
    await collectGarbage(lake, { graceMs: 0, apply: true });
    const restored = await restoreVersion(lake, "curated", "prices", 1);
    expect(restored.version).toBe(1);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 3]);
    expect(await listArchivedVersions(lake.storage, "curated", "prices")).toEqual([2]);
    const after = await readSnapshot(lake, "curated", "prices", { version: 1 });
    expect(after.rows).toEqual(before.rows);
    expect(await verifyVersion(lake.storage, restored)).toEqual([]);
    await expect(restoreVersion(lake, "curated", "prices", 1)).rejects.toThrow(/no archived version 1/);
  });

  it("keeps raw files that a live version still names when archiving versions that share them", async () => {
    const lake = await lakeWithThreeVersions();
    await archiveVersions(lake, "raw", "vega_stocks", {
      policy: { olderThanMs: 0 },
      now: later,
      apply: true,
    });
    await collectGarbage(lake, { graceMs: 0, apply: true });
    const head = await maybeHead(lake.storage, "raw", "vega_stocks");
    expect(head?.version).toBe(3);
    expect(await verifyVersion(lake.storage, head!)).toEqual([]);
    expect(
      await verifyVersion(lake.storage, await readArchivedManifest(lake.storage, "raw", "vega_stocks", 1)),
    ).toEqual([]);
  });
});
