import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { marketSteps, runMarketPipeline, stocksSpec } from "../helpers/market.ts";
import {
  createLake,
  landBytes,
  listVersionNumbers,
  maybeHead,
  readManifest,
  verifyVersion,
} from "../../src/lake/index.ts";
import { ingestCsv, promote } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

describe("concurrent writers", () => {
  it("two runs of the same promotion commit one version; the later finds it up to date", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await runMarketPipeline(lake);
    const step = {
      ...(await marketSteps())[1],
      output: { zone: "curated" as const, dataset: "prices_copy" },
    };
    const results = await Promise.all([promote(lake, step), promote(lake, step)]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0]?.manifest.version).toBe(1);
    expect(results[1]?.manifest.version).toBe(1);
    expect(await listVersionNumbers(lake.storage, "curated", "prices_copy")).toEqual([1]);
  });

  it("two different promotions of one output commit one after the other, never a mixed version", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await runMarketPipeline(lake);
    const curatedStep = (await marketSteps())[1];
    const a = {
      ...curatedStep,
      sql: `SELECT ticker, date, close FROM "staging.prices" WHERE ticker <> 'SPX'`,
    };
    const b = {
      ...curatedStep,
      sql: `SELECT ticker, date, close FROM "staging.prices" WHERE ticker <> 'IBM'`,
    };
    const [ra, rb] = await Promise.all([promote(lake, a), promote(lake, b)]);
    expect([ra?.manifest.version, rb?.manifest.version].sort()).toEqual([2, 3]);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2, 3]);
    for (const version of [2, 3]) {
      const manifest = await readManifest(lake.storage, "curated", "prices", version);
      expect(manifest.parent).toBe(version - 1);
      expect(await verifyVersion(lake.storage, manifest)).toEqual([]);
    }
  });

  it("two ingests of different files into one raw dataset both land, each once", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const land = (csv: string) =>
      landBytes(lake.storage, {
        source: "feed",
        origin: "test",
        data: Buffer.from(csv),
        extension: "csv",
        contentType: "text/csv",
      });
    const one = await land("symbol,date,price\nA,Jan 1 2000,1\n");
    const two = await land("symbol,date,price\nB,Jan 1 2000,2\nC,Jan 1 2000,3\n");
    const spec = await stocksSpec();
    await Promise.all([ingestCsv(lake, one.record, spec), ingestCsv(lake, two.record, spec)]);
    const head = await maybeHead(lake.storage, "raw", "vega_stocks");
    expect(head?.version).toBe(2);
    expect(head?.rowCount).toBe(3);
    expect(head?.lineage.landing.map((l) => l.sha256).sort()).toEqual(
      [one.record.sha256, two.record.sha256].sort(),
    );
  });
});
