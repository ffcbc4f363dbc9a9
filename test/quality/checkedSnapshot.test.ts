import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMarketPipeline, vegaDataPath } from "../helpers/market.ts";
import { QualityError } from "../../src/errors.ts";
import { type Lake, listVersionNumbers, maybeHead } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import {
  QUARANTINE_REASON,
  defineSuite,
  expectations as x,
  readCheckedSnapshot,
  readValidation,
  validateVersion,
} from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();

/** The bundled stocks CSV with `extra` lines appended (a later delivery of the same source). */
async function stocksWith(dir: string, extra: string[]): Promise<string> {
  const path = join(dir, "stocks.csv");
  const text = await readFile(vegaDataPath("stocks.csv"), "utf8");
  await writeFile(path, text.trimEnd() + "\n" + extra.join("\n") + "\n");
  return path;
}

async function demoLake(): Promise<{ lake: Lake; dir: string }> {
  const dir = await tempDir();
  const lake = await tempLake(dir);
  await runMarketPipeline(lake);
  return { lake, dir };
}

describe("demo market suites", () => {
  it("gate both promotions of the bundled data and pass", async () => {
    const { lake } = await demoLake();
    for (const zone of ["staging", "curated"] as const) {
      const head = (await maybeHead(lake.storage, zone, "prices"))!;
      expect(head.quality?.status).toBe("pass");
      expect((await readValidation(lake, zone, "prices", head.version))?.statistics.unsuccessful).toBe(0);
    }
  });

  it("quarantine a non-positive close in staging and promote the other rows", async () => {
    const { lake, dir } = await demoLake();
    const before = (await maybeHead(lake.storage, "staging", "prices"))!.rowCount;
    const stocksPath = await stocksWith(dir, ["MSFT,Apr 1 2010,0", "MSFT,May 1 2010,31.5"]);
    const result = await runMarketPipeline(lake, { stocksPath });
    const validation = (await readValidation(lake, "staging", "prices", result.staging.version))!;
    expect(validation.quarantine?.count).toBe(1);
    expect(result.staging.rowCount + validation.quarantine!.count).toBe(before + 2);
    const path = await lake.storage.localPath(validation.quarantine!.key);
    const [row] = await withDb((db) =>
      db.all(
        `SELECT ticker, CAST(date AS VARCHAR) AS date, ${QUARANTINE_REASON} FROM ${parquetRelation([path])}`,
      ),
    );
    expect(row).toEqual({ ticker: "MSFT", date: "2010-04-01", [QUARANTINE_REASON]: "close_positive" });
    expect(result.curated.rowCount).toBe(before + 1);
  });
});

describe("readCheckedSnapshot", () => {
  it("returns the head with its quality when the newest validation passed", async () => {
    const { lake } = await demoLake();
    const { snapshot, quality } = await readCheckedSnapshot(lake, "curated", "prices");
    expect(quality).toMatchObject({ status: "pass", version: 1, headVersion: 1, warning: null });
    expect(snapshot.version).toBe(1);
  });

  it("falls back to the last good version with a warning when the head fails a recheck", async () => {
    const { lake, dir } = await demoLake();
    await runMarketPipeline(lake, { stocksPath: await stocksWith(dir, ["MSFT,Apr 1 2010,31.5"]) });
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2]);
    const stricter = defineSuite({
      zone: "curated",
      dataset: "prices",
      expectations: [x.between("date", { max: "2010-03-31" }, { id: "until_march_2010" })],
    });
    await validateVersion(lake, stricter);
    const { snapshot, quality } = await readCheckedSnapshot(lake, "curated", "prices");
    expect(snapshot.version).toBe(1);
    expect(quality.version).toBe(1);
    expect(quality.headVersion).toBe(2);
    expect(quality.warning).toMatch(
      /^Newer data did not pass its quality checks, so this page shows curated\/prices version 1 \(the newest is version 2\): curated\/prices version 2 failed until_march_2010/,
    );
  });

  it("warns when an upstream promotion was blocked, and refuses in strict mode", async () => {
    const { lake, dir } = await demoLake();
    const suitesDir = join(dir, "quality");
    await mkdir(suitesDir);
    await writeFile(
      join(suitesDir, "staging.prices.yaml"),
      "zone: staging\ndataset: prices\nexpectations:\n  - id: listed_ticker\n    type: in_set\n    column: ticker\n" +
        "    values: [AAPL, AMZN, GOOG, IBM, MSFT, SPX]\n",
    );
    const stocksPath = await stocksWith(dir, ["NEW,Apr 1 2010,31.5"]);
    await expect(runMarketPipeline(lake, { stocksPath, suitesDir })).rejects.toThrow(QualityError);
    const { snapshot, quality } = await readCheckedSnapshot(lake, "curated", "prices");
    expect(snapshot.version).toBe(1);
    expect(quality.status).toBe("pass");
    expect(quality.warning).toContain("staging/prices candidate failed listed_ticker");
    await expect(readCheckedSnapshot(lake, "curated", "prices", { strict: true })).rejects.toThrow(
      /^strict build: Newer data did not pass/,
    );
  });
});
