/**
 * A lake: a storage backend chosen by config (the local filesystem by default, S3-compatible
 * object storage when configured) plus a scratch folder on local disk where DuckDB writes files
 * before they are moved into the store. The scratch folder sits inside `<lakeDir>/.tmp/`, so for
 * the filesystem backend the move is a rename on the same filesystem, and `lake gc` finds what a
 * crashed writer left behind.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { StorageConfig } from "../config.ts";
import type { CommitLock } from "./commitLock.ts";
import { createPgCommitLock } from "./pgCommitLock.ts";
import { TEMP_DIR, createFsStorage } from "./fsStorage.ts";
import { createS3Storage } from "./s3Storage.ts";
import type { Storage } from "./storage.ts";

export interface Lake {
  readonly storage: Storage;
  /** The local folder: the lake itself (filesystem backend) or its scratch and cache (S3). */
  readonly lakeDir: string;
  /** How long a write keeps rebasing on other writers' commits before it gives up (commit.ts). */
  readonly commitTimeoutMs?: number;
  /** Creates an empty local folder for one write; remove it with `releaseScratch`. */
  scratch(): Promise<string>;
  releaseScratch(dir: string): Promise<void>;
}

export interface LakeOptions {
  lakeDir: string;
  /** Where the lake lives; the filesystem under `lakeDir` when omitted. */
  storage?: StorageConfig;
  /**
   * Commit lock for S3 servers without conditional PUT. Default: a PostgreSQL advisory lock when
   * `databaseUrl` is set (shared by every machine writing the lake), else a file lock under lakeDir
   * (one machine).
   */
  commitLock?: CommitLock;
  /** The record store's database (Config.databaseUrl), which also holds S3 commit locks. */
  databaseUrl?: string;
  /** Config.commitTimeoutMs: the time budget of a write's commit (default 2 minutes). */
  commitTimeoutMs?: number;
}

export function createLake(options: LakeOptions): Lake {
  const lakeDir = resolve(options.lakeDir);
  const storage =
    options.storage?.kind === "s3"
      ? createS3Storage(options.storage, {
          lakeDir,
          lock:
            options.commitLock ?? (options.databaseUrl ? createPgCommitLock(options.databaseUrl) : undefined),
        })
      : createFsStorage(lakeDir);
  return {
    storage,
    lakeDir,
    ...(options.commitTimeoutMs !== undefined && { commitTimeoutMs: options.commitTimeoutMs }),
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
