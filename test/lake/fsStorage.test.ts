import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFsStorage } from "../../src/lake/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { describeStorageContract } from "./storageContract.ts";

const tempDir = useTempDirs();

describeStorageContract("local filesystem", async () => createFsStorage(await tempDir()));

describe("local filesystem storage", () => {
  it("refuses an object reached through a symlink that leads outside the lake", async () => {
    const root = await tempDir();
    const outside = await tempDir();
    await writeFile(join(outside, "secret.txt"), "secret");
    await mkdir(join(root, "curated"), { recursive: true });
    await symlink(join(outside, "secret.txt"), join(root, "curated", "leak.txt"));
    const storage = createFsStorage(root);
    await expect(storage.read("curated/leak.txt")).rejects.toMatchObject({ code: "INVALID_KEY" });
    await expect(storage.localPath("curated/leak.txt")).rejects.toMatchObject({ code: "INVALID_KEY" });
  });

  it("leaves no temporary file behind after writes and a lost race", async () => {
    const root = await tempDir();
    const storage = createFsStorage(root);
    await storage.write("a/b.json", "1");
    await storage.writeIfAbsent("a/c.json", "1");
    await expect(storage.writeIfAbsent("a/c.json", "2")).rejects.toThrow(/already exists/);
    expect(await readdir(join(root, ".tmp"))).toEqual([]);
  });
});
