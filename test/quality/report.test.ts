import { describe, expect, it } from "vitest";
import { runMarketPipeline } from "../helpers/market.ts";
import { qualityReport } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();

describe("qualityReport", () => {
  it("lists every validated dataset with its newest run and history", async () => {
    const lake = await tempLake(await tempDir());
    await runMarketPipeline(lake);
    const report = await qualityReport(lake, { now: () => new Date("2026-01-02T00:00:00Z") });
    expect(report.generatedAt).toBe("2026-01-02T00:00:00.000Z");
    expect(
      report.datasets.map((d) => [
        `${d.zone}/${d.dataset}`,
        d.latest.status,
        d.latest.suite,
        d.history.length,
      ]),
    ).toEqual([
      ["staging/prices", "pass", "quality/staging.prices.yaml", 1],
      ["curated/prices", "pass", "quality/curated.prices.yaml", 1],
    ]);
    expect(report.datasets[1]!.history[0]).toMatchObject({ version: 1, blocked: false, successPercent: 100 });
  });
});
