/**
 * The contract every storage backend passes. Each backend's test file calls
 * `describeStorageContract` with a factory for a fresh, empty store.
 */
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StorageError, VersionConflictError } from "../../src/errors.ts";
import type { Storage } from "../../src/lake/index.ts";

export function describeStorageContract(name: string, createStorage: () => Promise<Storage>): void {
  describe(`storage contract: ${name}`, () => {
    it("reads back what it wrote, byte for byte", async () => {
      const storage = await createStorage();
      const bytes = Buffer.from([0, 1, 2, 255, 254]);
      await storage.write("zone/ds/file.bin", bytes);
      expect(await storage.read("zone/ds/file.bin")).toEqual(bytes);
      expect((await storage.stat("zone/ds/file.bin"))?.size).toBe(5);
    });

    it("returns undefined for a missing object and fails read with NOT_FOUND", async () => {
      const storage = await createStorage();
      expect(await storage.maybeRead("nothing/here.json")).toBeUndefined();
      expect(await storage.stat("nothing/here.json")).toBeUndefined();
      await expect(storage.read("nothing/here.json")).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("replaces an object atomically on write", async () => {
      const storage = await createStorage();
      await storage.write("a/b.txt", "first");
      await storage.write("a/b.txt", "second");
      expect((await storage.read("a/b.txt")).toString()).toBe("second");
    });

    it("writeIfAbsent lets exactly one of several racing writers win", async () => {
      const storage = await createStorage();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          storage.writeIfAbsent("v/_versions/00000001.json", `writer ${i}`),
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(7);
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
      expect((await storage.read("v/_versions/00000001.json")).toString()).toMatch(/^writer \d$/);
    });

    it("lists committed objects under a prefix, sorted, without temporary files", async () => {
      const storage = await createStorage();
      await storage.write("z/b/2.json", "2");
      await storage.write("z/b/1.json", "1");
      await storage.write("z/c/1.json", "1");
      await storage.write("y/1.json", "1");
      expect((await storage.list("z/b/")).map((o) => o.key)).toEqual(["z/b/1.json", "z/b/2.json"]);
      expect((await storage.list("z/")).map((o) => o.key)).toEqual([
        "z/b/1.json",
        "z/b/2.json",
        "z/c/1.json",
      ]);
      expect((await storage.list("")).map((o) => o.key)).toEqual([
        "y/1.json",
        "z/b/1.json",
        "z/b/2.json",
        "z/c/1.json",
      ]);
      expect(await storage.list("missing/")).toEqual([]);
    });

    it("moves a local file in with putFile and exposes it through localPath", async () => {
      const storage = await createStorage();
      const local = join(tmpdir(), `lakebook-put-${process.pid}-${Date.now()}.bin`);
      await writeFile(local, "parquet bytes");
      await storage.putFile("curated/ds/data/w1/part-0.parquet", local);
      const path = await storage.localPath("curated/ds/data/w1/part-0.parquet");
      expect(await readFile(path, "utf8")).toBe("parquet bytes");
    });

    it("deletes objects", async () => {
      const storage = await createStorage();
      await storage.write("d/x.txt", "x");
      await storage.delete("d/x.txt");
      expect(await storage.maybeRead("d/x.txt")).toBeUndefined();
    });

    it.each(["../escape.txt", "a/../../b", "/etc/passwd", "a//b", ".tmp/x", "a/./b", "a\\b", "a/b\0c", ""])(
      "refuses the hostile key %j",
      async (key) => {
        const storage = await createStorage();
        await expect(storage.write(key, "x")).rejects.toBeInstanceOf(StorageError);
        await expect(storage.maybeRead(key)).rejects.toBeInstanceOf(StorageError);
      },
    );
  });
}
