/** The lake commands against an S3-compatible server (s3rver on loopback), configured by env. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { S3StorageConfig } from "../../src/config.ts";
import { runLakebook } from "../helpers/cli.ts";
import { closedPort } from "../helpers/closedPort.ts";
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

function lakebook(lakeDir: string, s3: S3StorageConfig, args: string[]) {
  const env = {
    ...process.env,
    LAKEBOOK_LAKE_DIR: lakeDir,
    LAKEBOOK_S3_ENDPOINT: s3.endpoint,
    LAKEBOOK_S3_BUCKET: s3.bucket,
    LAKEBOOK_S3_PREFIX: s3.prefix,
    LAKEBOOK_S3_REGION: s3.region,
    LAKEBOOK_S3_ACCESS_KEY: s3.accessKey,
    LAKEBOOK_S3_SECRET_KEY: s3.secretKey,
  };
  return runLakebook(args, { env });
}

describe("lake commands on S3", () => {
  it("ingest writes the raw version to the bucket, where lake ls finds it", async () => {
    const dir = await tempDir();
    const csv = join(dir, "q.csv");
    await writeFile(csv, "symbol,price\nA,1.5\nB,2\n");
    const s3 = server.config();
    const args = [
      "ingest",
      csv,
      "--source",
      "feed",
      "--dataset",
      "quotes",
      "--columns",
      "symbol:VARCHAR,price:DECIMAL(18,4)",
    ];
    const ingested = await lakebook(join(dir, "lake"), s3, args);
    expect(ingested).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^raw\/quotes v1: 2 rows added, 2 in total/),
    });
    // Another machine (an empty local folder) sees the same lake.
    const ls = await lakebook(join(dir, "other"), s3, ["lake", "ls", "--json"]);
    expect(JSON.parse(ls.stdout).datasets).toMatchObject([
      { zone: "raw", dataset: "quotes", version: 1, rowCount: 2 },
    ]);
  });

  it("fails with exit 1 and says what to check when the S3 server is down", async () => {
    const dir = await tempDir();
    const csv = join(dir, "q.csv");
    await writeFile(csv, "symbol,price\nA,1.5\n");
    const down = { ...server.config(), endpoint: `http://127.0.0.1:${await closedPort()}` };
    const run = await lakebook(join(dir, "lake"), down, [
      "ingest",
      csv,
      "--source",
      "feed",
      "--dataset",
      "quotes",
      "--columns",
      "symbol:VARCHAR,price:DECIMAL(18,4)",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /the S3 server at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\); check that it runs/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
