/**
 * Embedded backend: PGlite, PostgreSQL compiled to WebAssembly, in this process. No set-up; data
 * under `dataDir` (or in memory when it is undefined). One process at a time may open a data
 * folder: a lock file next to it names the owner, and a second process is refused with what to do
 * (stop the other one, or share a PostgreSQL via DATABASE_URL). LISTEN/NOTIFY work within the
 * process, delivered as each notifying statement commits; there is no connection to lose.
 */
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { StorageError } from "../errors.ts";
import type { SqlClient } from "./sqlClient.ts";

interface PGliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(fn: (tx: { query: PGliteLike["query"] }) => Promise<T>): Promise<T>;
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export async function createPgliteClient(options: { dataDir?: string } = {}): Promise<SqlClient> {
  const { dataDir } = options;
  const release = dataDir === undefined ? async () => undefined : await lockDataDir(dataDir);
  let db: PGliteLike;
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    db = (await PGlite.create(dataDir)) as unknown as PGliteLike;
  } catch (error) {
    await release();
    throw new StorageError(
      `cannot open the embedded store at ${dataDir ?? "memory"}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const listeners = new Set<() => Promise<void>>();
  const listen: SqlClient["listen"] = async (channel, listener) => {
    const stop = await db.listen(channel, (payload) => listener.onPayload(payload));
    const unlisten = async (): Promise<void> => {
      if (!listeners.delete(unlisten)) return;
      await stop();
    };
    listeners.add(unlisten);
    return unlisten;
  };
  const wrap = (runner: { query: PGliteLike["query"] }): SqlClient => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await runner.query<T>(sql, [...params])).rows;
    },
    // PGlite has one connection: a nested transaction just joins the open one.
    transaction: (fn) => (runner === db ? db.transaction((tx) => fn(wrap(tx))) : fn(wrap(runner))),
    listen,
    close: async () => {
      await Promise.all([...listeners].map((unlisten) => unlisten().catch(() => undefined)));
      await db.close();
      await release();
    },
  });
  return wrap(db);
}

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = `${dataDir}.lock`;
  await mkdir(dirname(lockPath), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number((await readFile(lockPath, "utf8").catch(() => "")).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new StorageError(
          `the embedded store ${dataDir} is in use by process ${owner} (a running 'lakebook serve'?): ` +
            `stop it first, or set DATABASE_URL so several processes share one PostgreSQL`,
          { code: "STORE_LOCKED" },
        );
      }
      // Left by a process that is gone: take it over.
      await rm(lockPath, { force: true });
    }
  }
  throw new StorageError(`cannot lock the embedded store ${dataDir}: remove ${lockPath} if no Lakebook runs`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
