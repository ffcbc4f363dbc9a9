import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMarketPipeline, vegaDataPath } from "../helpers/market.ts";
import { collectGarbage, createLake, listVersionNumbers, verifyVersion } from "../../src/lake/index.ts";
import { readSnapshot } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { type S3Server, startS3Server } from "../lake/s3Server.ts";

const tempDir = useTempDirs();
let server: S3Server;

beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.close();
});

async function csvRows(file: string): Promise<number> {
  return (await readFile(vegaDataPath(file), "utf8")).trim().split("\n").length - 1;
}

describe("market pipeline on S3", () => {
  it("carries every row to curated in the bucket and is idempotent on rerun", async () => {
    const storage = server.config();
    const lake = createLake({ lakeDir: await tempDir(), storage });
    const result = await runMarketPipeline(lake);
    const expected = (await csvRows("stocks.csv")) + (await csvRows("sp500.csv"));
    expect(result.curated.rowCount).toBe(expected);
    // A second lake on the same bucket with an empty cache reads the same curated version.
    const reader = createLake({ lakeDir: await tempDir(), storage });
    const snapshot = await readSnapshot(reader, "curated", "prices");
    expect(snapshot.rows).toHaveLength(expected);
    expect(snapshot.version).toBe(1);
    expect(await verifyVersion(reader.storage, result.curated)).toEqual([]);
    expect((await collectGarbage(reader, { graceMs: 0 })).candidates).toEqual([]);
    const again = await runMarketPipeline(lake);
    expect(again.created).toEqual({ stocks: false, sp500: false, staging: false, curated: false });
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1]);
  });
});
