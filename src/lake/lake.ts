/**
 * A lake: a storage backend plus a scratch folder on local disk where DuckDB writes files before
 * they are moved into the store. The scratch folder sits inside the lake's `.tmp/` for the
 * filesystem backend so the move is a rename on the same filesystem.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { TEMP_DIR, createFsStorage } from "./fsStorage.ts";
import type { Storage } from "./storage.ts";

export interface Lake {
  readonly storage: Storage;
  /** Creates an empty local folder for one write; remove it with `releaseScratch`. */
  scratch(): Promise<string>;
  releaseScratch(dir: string): Promise<void>;
}

export function createLake(options: { lakeDir: string }): Lake {
  const lakeDir = resolve(options.lakeDir);
  const storage = createFsStorage(lakeDir);
  return {
    storage,
    async scratch() {
      const dir = join(lakeDir, TEMP_DIR, `scratch-${newWriteId()}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async releaseScratch(dir: string) {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A sortable unique id for one write: UTC timestamp plus randomness. */
export function newWriteId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "").replace("T", "T").slice(0, 18);
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}
