/**
 * Local filesystem storage, the embedded default (`data/lake`).
 *
 * Atomicity: every write goes to a temporary file under `<root>/.tmp/` (same filesystem), is
 * fsynced, then renamed into place (a data file DuckDB wrote is fsynced before its rename too); `writeIfAbsent` uses `link()`, which fails with EEXIST instead
 * of replacing, so two racing committers cannot both win. Temporary files left by a crash live
 * only under `.tmp/`, which `list` never shows and `lake gc` removes.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  unlink,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { StorageError, VersionConflictError } from "../errors.ts";
import { normalizeKey, normalizePrefix } from "./names.ts";
import { type ObjectInfo, type Storage, notFound } from "./storage.ts";

export const TEMP_DIR = ".tmp";

export function createFsStorage(rootDir: string): Storage {
  return new FsStorage(resolve(rootDir));
}

class FsStorage implements Storage {
  readonly location: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.location = `file:${root}`;
  }

  #path(key: string): string {
    return join(this.#root, ...normalizeKey(key).split("/"));
  }

  /** Refuses objects reached through a symlink that leads outside the lake. */
  async #checkedPath(key: string): Promise<string | undefined> {
    const path = this.#path(key);
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new StorageError(`cannot read '${key}' in ${this.location}`, { cause: error });
    }
    const realRoot = await realpath(this.#root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new StorageError(`refusing '${key}': it resolves outside the lake`, { code: "INVALID_KEY" });
    }
    return real;
  }

  async #tempFile(data: Buffer | string): Promise<string> {
    const tempDir = join(this.#root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true });
    const tempPath = join(tempDir, `${Date.now()}-${randomBytes(6).toString("hex")}`);
    const handle = await open(tempPath, "wx");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tempPath;
  }

  async read(key: string): Promise<Buffer> {
    const data = await this.maybeRead(key);
    if (data === undefined) throw notFound(this, key);
    return data;
  }

  async maybeRead(key: string): Promise<Buffer | undefined> {
    const path = await this.#checkedPath(key);
    if (path === undefined) return undefined;
    return readFile(path);
  }

  async write(key: string, data: Buffer | string): Promise<void> {
    const path = this.#path(key);
    const tempPath = await this.#tempFile(data);
    await mkdir(dirname(path), { recursive: true });
    await rename(tempPath, path);
    await syncPath(dirname(path));
  }

  async writeIfAbsent(key: string, data: Buffer | string): Promise<void> {
    const path = this.#path(key);
    const tempPath = await this.#tempFile(data);
    try {
      await mkdir(dirname(path), { recursive: true });
      await link(tempPath, path);
      await syncPath(dirname(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new VersionConflictError(key, `'${key}' already exists: another writer committed it first`, {
          cause: error,
        });
      }
      throw new StorageError(`cannot write '${key}' in ${this.location}`, { cause: error });
    } finally {
      await unlink(tempPath).catch(() => undefined);
    }
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    // On disk before any manifest can name it: a power cut after the commit must not leave a
    // committed version pointing at a file whose bytes never reached the disk.
    await syncPath(localPath);
    try {
      await rename(localPath, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      // Another filesystem: copy next to the target, then rename, so readers never see a partial file.
      const tempPath = join(this.#root, TEMP_DIR, `${Date.now()}-${randomBytes(6).toString("hex")}`);
      await mkdir(dirname(tempPath), { recursive: true });
      await copyFile(localPath, tempPath, constants.COPYFILE_EXCL);
      await syncPath(tempPath);
      await rename(tempPath, path);
      await unlink(localPath);
    }
    await syncPath(dirname(path));
  }

  async localPath(key: string): Promise<string> {
    const path = await this.#checkedPath(key);
    if (path === undefined) throw notFound(this, key);
    return path;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = await this.#checkedPath(key);
    if (path === undefined) return undefined;
    const info = await stat(path);
    return info.isFile() ? { key, size: info.size, modified: info.mtime } : undefined;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const normalized = normalizePrefix(prefix);
    // Walk from the deepest folder the prefix names, then filter by the full prefix.
    const folder = normalized.includes("/") ? normalized.slice(0, normalized.lastIndexOf("/")) : "";
    const start = folder ? join(this.#root, ...folder.split("/")) : this.#root;
    const results: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(".")) continue; // temporary files are never listed
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) {
          const key = relative(this.#root, path).split(sep).join("/");
          if (!key.startsWith(normalized)) continue;
          const info = await stat(path);
          results.push({ key, size: info.size, modified: info.mtime });
        }
      }
    };
    await walk(start);
    return results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** fsync of a file, or of a folder (which makes the names created in it durable). */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
