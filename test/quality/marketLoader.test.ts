import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runMarketPipeline, vegaDataPath } from "../helpers/market.ts";
import { defineSuite, expectations as x, validateVersion } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();
const LOADER = resolve("loaders/market.json.ts");

/** Runs the market loader the way a build does: a child process configured by the environment. */
async function runLoader(lakeDir: string, env: Record<string, string> = {}) {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", LOADER], {
      env: { ...process.env, LAKEBOOK_LAKE_DIR: lakeDir, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: JSON.parse(stdout), stderr: "" };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, output: undefined, stderr: e.stderr };
  }
}

describe("market loader (build gating)", () => {
  it("emits the last good version with a warning when the newest failed, and fails in strict mode", async () => {
    const dir = await tempDir();
    const lake = await tempLake(dir);
    await runMarketPipeline(lake);
    const stocksPath = join(dir, "stocks.csv");
    const text = await readFile(vegaDataPath("stocks.csv"), "utf8");
    await writeFile(stocksPath, text.trimEnd() + "\nMSFT,Apr 1 2010,31.5\n");
    await runMarketPipeline(lake, { stocksPath });
    await validateVersion(
      lake,
      defineSuite({
        zone: "curated",
        dataset: "prices",
        expectations: [x.between("date", { max: "2010-03-31" })],
      }),
    );

    const lenient = await runLoader(join(dir, "lake"));
    expect(lenient.code).toBe(0);
    expect(lenient.output.version).toBe(1);
    expect(lenient.output.quality).toMatchObject({ status: "pass", version: 1, headVersion: 2 });
    expect(lenient.output.quality.warning).toContain("curated/prices version 2 failed between(date)");

    const strict = await runLoader(join(dir, "lake"), { LAKEBOOK_STRICT: "1" });
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain("strict build: Newer data did not pass its quality checks");
  });
});
