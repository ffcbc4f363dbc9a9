/**
 * Commit locks: mutual exclusion around "check that a key is absent, then create it" for storage
 * backends that cannot create an object conditionally (S3-compatible servers that ignore
 * `If-None-Match: *` on PUT, such as s3rver and older MinIO releases).
 *
 * The default lock is a lock file under `<lakeDir>/.locks/`, created with O_EXCL: it serializes
 * every writer on one machine that shares the lake folder (processes and concurrent calls alike).
 * A lock whose owner process is gone (killed mid-commit) is taken over. Writers on several
 * machines must share a lock that all of them see, e.g. one held in the record store (PostgreSQL
 * advisory locks, pgCommitLock.ts), which `createLake` uses whenever DATABASE_URL is set.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "../errors.ts";

export interface CommitLock {
  /** Runs `work` while no other holder of the lock `name` runs. */
  withLock<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export function createFileCommitLock(
  lockDir: string,
  options: { timeoutMs?: number; pollMs?: number } = {},
): CommitLock {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pollMs = options.pollMs ?? 5;
  return {
    async withLock(name, work) {
      await mkdir(lockDir, { recursive: true });
      const path = join(lockDir, `${createHash("sha256").update(name).digest("hex").slice(0, 32)}.lock`);
      const token = `${process.pid} ${randomBytes(8).toString("hex")}`;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const handle = await open(path, "wx");
          try {
            await handle.writeFile(token);
          } finally {
            await handle.close();
          }
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
            throw new StorageError(`cannot create the commit lock ${path}`, { cause: error });
          }
        }
        const owner = await readFile(path, "utf8").catch(() => "");
        if (owner !== "" && !isAlive(Number(owner.split(" ")[0]))) await takeOver(path, owner);
        if (Date.now() > deadline) {
          throw new StorageError(
            `timed out waiting for the commit lock on '${name}' held by '${owner}': if no Lakebook process runs, remove ${path}`,
            { code: "LOCKED" },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, pollMs + Math.random() * pollMs));
      }
      try {
        return await work();
      } finally {
        // Only remove our own lock: it may have been taken over if this process stalled.
        if ((await readFile(path, "utf8").catch(() => "")) === token) await rm(path, { force: true });
      }
    },
  };
}

/** Moves a dead owner's lock aside atomically, so two waiters cannot both remove a fresh one. */
async function takeOver(path: string, staleOwner: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  if (moved !== staleOwner) {
    // We moved a fresh lock taken between our read and rename: put it back unless replaced.
    await link(aside, path).catch(() => undefined);
    await rm(aside, { force: true });
    return;
  }
  await rm(aside, { force: true });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
