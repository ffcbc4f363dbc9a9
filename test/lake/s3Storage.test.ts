import { spawn } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError, StorageError } from "../../src/errors.ts";
import {
  collectGarbage,
  createLake,
  createS3Storage,
  landBytes,
  listVersionNumbers,
} from "../../src/lake/index.ts";
import { ingestCsv } from "../../src/pipeline/index.ts";
import { closedPort } from "../helpers/closedPort.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { type S3Server, startS3Server } from "./s3Server.ts";
import { describeStorageContract } from "./storageContract.ts";

const tempDir = useTempDirs();
const WRITER = fileURLToPath(new URL("./fixtures/s3Writer.ts", import.meta.url));
let server: S3Server;

beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.close();
});

describeStorageContract("S3 (s3rver on loopback)", async () =>
  createS3Storage(server.config(), { lakeDir: await tempDir() }),
);

describe("S3 storage", () => {
  it("stores and lists a 0-byte object", async () => {
    const storage = createS3Storage(server.config(), { lakeDir: await tempDir() });
    await storage.write("landing/empty.csv", Buffer.alloc(0));
    expect((await storage.read("landing/empty.csv")).length).toBe(0);
    expect(await storage.list("landing/")).toMatchObject([{ key: "landing/empty.csv", size: 0 }]);
  });

  it("keeps objects of different prefixes apart", async () => {
    const lakeDir = await tempDir();
    const a = createS3Storage(server.config("a/"), { lakeDir });
    const b = createS3Storage(server.config("b/"), { lakeDir });
    await a.write("x.txt", "a");
    expect(await b.maybeRead("x.txt")).toBeUndefined();
    expect((await a.list("")).map((o) => o.key)).toEqual(["x.txt"]);
  });

  it("caches a downloaded object under lakeDir/.cache and fetches a replaced one again", async () => {
    const lakeDir = await tempDir();
    const storage = createS3Storage(server.config(), { lakeDir });
    await storage.write("raw/d/f.txt", "one");
    const first = await storage.localPath("raw/d/f.txt");
    expect(first.startsWith(join(lakeDir, ".cache"))).toBe(true);
    await storage.write("raw/d/f.txt", "two!");
    const second = await storage.localPath("raw/d/f.txt");
    expect(second).not.toBe(first);
    expect(await readFile(second, "utf8")).toBe("two!");
  });

  it("gc prunes cached copies of objects that no longer exist and keeps the others", async () => {
    const lakeDir = await tempDir();
    const lake = createLake({ lakeDir, storage: server.config() });
    await lake.storage.write("raw/d/data/gone.parquet", "old");
    await lake.storage.write("raw/d/data/kept.parquet", "kept");
    const gone = await lake.storage.localPath("raw/d/data/gone.parquet");
    const kept = await lake.storage.localPath("raw/d/data/kept.parquet");
    await lake.storage.delete("raw/d/data/gone.parquet");
    const result = await collectGarbage(lake, { graceMs: 0, apply: true });
    expect(
      result.candidates.filter((c) => c.where === "local").map((c) => [join(lakeDir, c.key), c.reason]),
    ).toEqual([[gone, "cached copy of an object that no longer exists"]]);
    await expect(readFile(gone)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(kept, "utf8")).toBe("kept");
  });

  it("refuses to ingest a 0-byte landed object with a clear error and leaves the lake unchanged", async () => {
    const lake = createLake({ lakeDir: await tempDir(), storage: server.config() });
    const { record } = await landBytes(lake.storage, {
      source: "feed",
      origin: "test",
      data: Buffer.alloc(0),
      extension: "csv",
      contentType: "text/csv",
    });
    const error = await ingestCsv(lake, record, {
      dataset: "quotes",
      columns: [{ name: "a", type: "VARCHAR" }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/is empty: the source delivered no data/);
    expect(await lake.storage.list("raw/")).toEqual([]);
  });

  it("fails with a clear StorageError when the server is down and writes nothing", async () => {
    const lakeDir = await tempDir();
    const config = { ...server.config(), endpoint: `http://127.0.0.1:${await closedPort()}` };
    const lake = createLake({ lakeDir, storage: config });
    const error = await landBytes(lake.storage, {
      source: "feed",
      origin: "test",
      data: Buffer.from("a\n1\n"),
      extension: "csv",
      contentType: "text/csv",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("UNAVAILABLE");
    expect((error as Error).message).toMatch(/is unreachable \(ECONNREFUSED\); check that it runs/);
    await expect(listVersionNumbers(lake.storage, "raw", "quotes")).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
    expect(await readdir(lakeDir)).not.toContain(".cache");
  });

  it("lets exactly one of several writer processes sharing the lake folder commit a key", async () => {
    const lakeDir = await tempDir();
    const config = server.config();
    const startAt = Date.now() + 2500;
    const codes = await Promise.all(
      [1, 2, 3, 4].map(
        (id) =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              [
                "--import",
                "tsx",
                WRITER,
                JSON.stringify(config),
                lakeDir,
                "v/_versions/00000001.json",
                String(id),
                String(startAt),
              ],
              { stdio: "ignore" },
            );
            child.on("error", reject);
            child.on("exit", (code) => resolve(code));
          }),
      ),
    );
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    expect(codes.filter((c) => c === 3)).toHaveLength(3);
    const storage = createS3Storage(config, { lakeDir });
    expect((await storage.read("v/_versions/00000001.json")).toString()).toMatch(/^writer [1-4]$/);
  });

  it("names a missing bucket and what to do", async () => {
    const storage = createS3Storage(
      { ...server.config(), bucket: "missing-bucket" },
      { lakeDir: await tempDir() },
    );
    await expect(storage.write("a.txt", "x")).rejects.toThrow(/bucket 'missing-bucket' does not exist/);
  });
});
