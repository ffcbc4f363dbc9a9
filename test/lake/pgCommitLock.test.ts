import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError, VersionConflictError } from "../../src/errors.ts";
import { createLake, createPgCommitLock } from "../../src/lake/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { type S3Server, startS3Server } from "./s3Server.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";

const DATABASE_URL = TEST_DATABASE_URL;
const tempDir = useTempDirs();
let server: S3Server;

beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.close();
});

describe("PostgreSQL commit lock for S3 lakes", () => {
  it("lets exactly one of several machines (separate lake folders) commit a key", async () => {
    const config = server.config();
    // Each "machine" has its own lake folder, so file locks cannot serialize them; the database can.
    const lakes = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async () =>
        createLake({ lakeDir: await tempDir(), storage: config, databaseUrl: DATABASE_URL }),
      ),
    );
    const results = await Promise.allSettled(
      lakes.map((lake, i) =>
        lake.storage.writeIfAbsent("curated/prices/_versions/00000001.json", `machine ${i}`),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    }
    expect((await lakes[0]!.storage.read("curated/prices/_versions/00000001.json")).toString()).toMatch(
      /^machine \d$/,
    );
  });

  it("waits for a holder, times out with LOCKED, and is free again once the holder's connection ends", async () => {
    const lock = createPgCommitLock(DATABASE_URL, { timeoutMs: 300 });
    const holder = new pg.Client({ connectionString: DATABASE_URL });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", ["lakebook commit k1"]);
      const error = await lock.withLock("k1", async () => "ran").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe("LOCKED");
    } finally {
      // A writer that dies mid-commit drops its connection, and PostgreSQL releases its lock.
      await holder.end();
    }
    expect(await lock.withLock("k1", async () => "ran")).toBe("ran");
    await lock.close();
  });

  it("names DATABASE_URL when the database cannot be reached", async () => {
    const lock = createPgCommitLock("postgres://postgres@127.0.0.1:1/test");
    const error = await lock.withLock("k2", async () => "ran").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/commit lock .*check DATABASE_URL/);
    await lock.close();
  });
});
