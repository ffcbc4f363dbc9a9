import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MARKET_STEPS, runMarketPipeline } from "../../src/demo/marketPipeline.ts";
import { VersionConflictError } from "../../src/errors.ts";
import {
  collectGarbage,
  createLake,
  listVersionNumbers,
  maybeHead,
  verifyVersion,
} from "../../src/lake/index.ts";
import { type PromotionStep, promote } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

describe("concurrent promotions", () => {
  it("commit one version; the other writer gets a typed conflict and its file is left for gc", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const { staging } = await runMarketPipeline(lake);
    const curatedStep = MARKET_STEPS[1] as PromotionStep;
    // Two writers with different SQL, both based on curated v1.
    const a = { ...curatedStep, sql: "SELECT ticker, date, close FROM prices WHERE ticker <> 'SPX'" };
    const b = { ...curatedStep, sql: "SELECT ticker, date, close FROM prices WHERE ticker <> 'IBM'" };
    const results = await Promise.allSettled([promote(lake, a), promote(lake, b)]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    expect((lost[0] as PromiseRejectedResult).reason.message).toMatch(
      /another writer committed it first|rerun the step/,
    );
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2]);
    const head = await maybeHead(lake.storage, "curated", "prices");
    expect(head?.rowCount).toBeLessThan(staging.rowCount);
    expect(await verifyVersion(lake.storage, head!)).toEqual([]);
    const garbage = await collectGarbage(lake, { graceMs: 0 });
    expect(garbage.candidates.filter((c) => c.where === "store")).toHaveLength(1);
  });
});
