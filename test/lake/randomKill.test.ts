/**
 * The fast case of the fault suite (test/faults/kill.test.ts runs it on millions of rows): one
 * `lakebook ingest` of 50k rows killed with SIGKILL at a random moment, then the rerun.
 */
import { join } from "node:path";
import { describe, it } from "vitest";
import { createLake, landLocalFile } from "../../src/lake/index.ts";
import { ingestCsv, parseColumnList } from "../../src/pipeline/index.ts";
import {
  STOCK_COLUMNS,
  faultSeed,
  killIngestScenario,
  lakeEnv,
  report,
  seededRandom,
  writePriceCsv,
} from "../helpers/faults.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

describe("a kill -9 at a random moment", () => {
  it("of lakebook ingest leaves every version intact, and the rerun commits once", async () => {
    const dir = await tempDir();
    const lakeDir = join(dir, "lake");
    const csv = join(dir, "prices.csv");
    await writePriceCsv(csv, 50_000);
    // A version already committed, which every kill must leave intact.
    const lake = createLake({ lakeDir });
    const first = join(dir, "first.csv");
    await writePriceCsv(first, 1000, 2);
    const landed = await landLocalFile(lake, { source: "feed", path: first });
    await ingestCsv(lake, landed.record, { dataset: "quotes", columns: parseColumnList(STOCK_COLUMNS) });
    const seed = faultSeed();
    report(`random kill of a 50k-row ingest, seed ${seed} (LAKEBOOK_FAULT_SEED to replay)`);
    await killIngestScenario({
      lake,
      env: lakeEnv(lakeDir),
      csv,
      rows: 50_000,
      kills: 1,
      maxDelayMs: 5000,
      random: seededRandom(seed),
    });
  });
});
