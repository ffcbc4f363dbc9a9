/**
 * S3-compatible object storage (MinIO, AWS S3, s3rver) through the `minio` client, imported on
 * first use so the filesystem default never loads it.
 *
 * Invariants, as the storage contract requires:
 * - Atomic visibility: every object is written with one PUT of known size (never multipart), and
 *   S3 makes a PUT visible whole or not at all.
 * - Create-only-if-absent: `writeIfAbsent` checks the key and PUTs with `If-None-Match: *` while
 *   holding a commit lock. Servers that honour the header (AWS S3, current MinIO) refuse the second
 *   writer with 412 even across machines; on servers that ignore it (s3rver, old MinIO) the lock is
 *   what serializes commits, so every writer must share it: the default file lock under
 *   `<lakeDir>/.locks/` covers every process on one machine; several machines share the record
 *   store's PostgreSQL advisory lock (pgCommitLock.ts), which `createLake` passes as `lock` when a
 *   database is configured.
 * - Consistent listing: S3 lists are strongly consistent; nothing temporary is ever stored in the
 *   bucket (staging happens on local disk), so `list` shows only committed objects.
 * - DuckDB reads local files only (httpfs cannot be installed offline): `localPath` downloads an
 *   object once into `<lakeDir>/.cache/s3/`, named by its ETag so a replaced object is fetched
 *   again; `putFile` keeps the uploaded file there, so a pipeline never downloads what it wrote.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { dirname, join } from "node:path";
import type { Client } from "minio";
import { StorageError, VersionConflictError } from "../errors.ts";
import { type CommitLock, createFileCommitLock } from "./commitLock.ts";
import { normalizeKey, normalizePrefix } from "./names.ts";
import { type ObjectInfo, type Storage, notFound } from "./storage.ts";
import { sha256OfFile } from "./verify.ts";

export interface S3Options {
  /** e.g. http://127.0.0.1:9000; path-style addressing is always used. */
  endpoint: string;
  bucket: string;
  /** Key prefix inside the bucket ("" for the bucket root). */
  prefix: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

/** Largest object a single PUT may carry (S3's limit); larger files would need multipart. */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;

export function createS3Storage(options: S3Options, local: { lakeDir: string; lock?: CommitLock }): Storage {
  return new S3Storage(
    options,
    local.lakeDir,
    local.lock ?? createFileCommitLock(join(local.lakeDir, ".locks")),
  );
}

class S3Storage implements Storage {
  readonly location: string;
  readonly #options: S3Options;
  readonly #prefix: string;
  readonly cacheDir: string;
  readonly #lock: CommitLock;
  #client: Promise<Client> | undefined;

  constructor(options: S3Options, lakeDir: string, lock: CommitLock) {
    this.#options = options;
    this.#prefix = options.prefix === "" ? "" : normalizePrefix(options.prefix.replace(/\/*$/, "/"));
    this.location = `s3://${options.bucket}/${this.#prefix}`;
    this.cacheDir = join(lakeDir, ".cache", "s3", options.bucket, ...this.#prefix.split("/").filter(Boolean));
    this.#lock = lock;
  }

  client(): Promise<Client> {
    this.#client ??= (async () => {
      const { Client } = await import("minio");
      let url: URL;
      try {
        url = new URL(this.#options.endpoint);
      } catch (error) {
        throw new StorageError(
          `invalid S3 endpoint '${this.#options.endpoint}': use e.g. http://127.0.0.1:9000`,
          {
            cause: error,
          },
        );
      }
      const useSSL = url.protocol === "https:";
      return new Client({
        endPoint: url.hostname,
        port: url.port ? Number(url.port) : useSSL ? 443 : 80,
        useSSL,
        pathStyle: true,
        region: this.#options.region,
        accessKey: this.#options.accessKey,
        secretKey: this.#options.secretKey,
      });
    })();
    return this.#client;
  }

  #name(key: string): string {
    return this.#prefix + normalizeKey(key);
  }

  /** Turns a client or network failure into a StorageError that says what to check. */
  #fail(action: string, key: string, error: unknown): StorageError {
    const code = (error as { code?: string }).code;
    const what = `cannot ${action} '${key}' in ${this.location}`;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ECONNRESET" || code === "ETIMEDOUT") {
      return new StorageError(
        `${what}: the S3 server at ${this.#options.endpoint} is unreachable (${code}); check that it runs and LAKEBOOK_S3_ENDPOINT`,
        { cause: error, code: "UNAVAILABLE" },
      );
    }
    if (code === "NoSuchBucket") {
      return new StorageError(
        `${what}: bucket '${this.#options.bucket}' does not exist; create it or fix LAKEBOOK_S3_BUCKET`,
        { cause: error, code: "NO_BUCKET" },
      );
    }
    if (code === "AccessDenied" || code === "SignatureDoesNotMatch" || code === "InvalidAccessKeyId") {
      return new StorageError(
        `${what}: access denied (${code}); check LAKEBOOK_S3_ACCESS_KEY and LAKEBOOK_S3_SECRET_KEY`,
        {
          cause: error,
          code: "ACCESS_DENIED",
        },
      );
    }
    return new StorageError(`${what}: ${(error as Error).message ?? String(error)}`, { cause: error });
  }

  async #call<T>(action: string, key: string, work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.client();
    try {
      return await work(client);
    } catch (error) {
      if (error instanceof StorageError || error instanceof VersionConflictError) throw error;
      throw this.#fail(action, key, error);
    }
  }

  async read(key: string): Promise<Buffer> {
    const data = await this.maybeRead(key);
    if (data === undefined) throw notFound(this, key);
    return data;
  }

  async maybeRead(key: string): Promise<Buffer | undefined> {
    const name = this.#name(key);
    return this.#call("read", key, async (client) => {
      let stream: Readable;
      try {
        stream = await client.getObject(this.#options.bucket, name);
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
  }

  async write(key: string, data: Buffer | string): Promise<void> {
    const name = this.#name(key);
    const body = typeof data === "string" ? Buffer.from(data) : data;
    await this.#call("write", key, (client) => this.#put(client, name, body, {}));
  }

  async writeIfAbsent(key: string, data: Buffer | string): Promise<void> {
    const name = this.#name(key);
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const conflict = (cause?: unknown) =>
      new VersionConflictError(key, `'${key}' already exists: another writer committed it first`, { cause });
    await this.#lock.withLock(`${this.location}${name}`, () =>
      this.#call("write", key, async (client) => {
        if (await this.#head(client, name)) throw conflict();
        try {
          await this.#put(client, name, body, { "If-None-Match": "*" });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === "PreconditionFailed" || code === "ConditionalRequestConflict") throw conflict(error);
          throw error;
        }
      }),
    );
  }

  /** One PUT of known size: never the multipart path (s3rver lacks ListMultipartUploads). */
  async #put(
    client: Client,
    name: string,
    body: Buffer | { path: string; size: number; sha256: string },
    headers: Record<string, string>,
  ): Promise<string | undefined> {
    const isBuffer = Buffer.isBuffer(body);
    const size = isBuffer ? body.length : body.size;
    const signed = !this.#options.endpoint.startsWith("https:");
    const sha256 = signed ? (isBuffer ? createHash("sha256").update(body).digest("hex") : body.sha256) : "";
    const response = await client.makeRequestStreamAsync(
      {
        method: "PUT",
        bucketName: this.#options.bucket,
        objectName: name,
        headers: { ...headers, "Content-Length": String(size) },
      },
      isBuffer ? body : createReadStream(body.path),
      sha256,
      [200],
      this.#options.region,
    );
    response.resume();
    const etag = response.headers.etag;
    return typeof etag === "string" ? etag.replace(/"/g, "") : undefined;
  }

  async #head(
    client: Client,
    name: string,
  ): Promise<{ size: number; etag: string; modified: Date } | undefined> {
    try {
      const info = await client.statObject(this.#options.bucket, name);
      return { size: info.size, etag: info.etag, modified: info.lastModified };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const name = this.#name(key);
    const { size } = await stat(localPath);
    if (size > MAX_SINGLE_PUT) {
      throw new StorageError(
        `cannot upload '${key}': ${size} bytes is more than one S3 PUT carries (5 GiB); write smaller files (lower the row count per file)`,
      );
    }
    const sha256 = await sha256OfFile(localPath);
    const etag = await this.#call("upload", key, (client) =>
      this.#put(client, name, { path: localPath, size, sha256 }, {}),
    );
    // Keep the bytes as the cached copy: the pipeline's next step reads what this one wrote.
    if (etag) {
      const cached = this.#cachePath(key, etag);
      await mkdir(dirname(cached), { recursive: true });
      await rename(localPath, cached).catch(() => rm(localPath, { force: true }));
    } else {
      await rm(localPath, { force: true });
    }
  }

  #cachePath(key: string, etag: string): string {
    const segments = normalizeKey(key).split("/");
    const file = segments.pop() as string;
    return join(this.cacheDir, ...segments, `${etag.replace(/[^A-Za-z0-9-]/g, "")}-${file}`);
  }

  async localPath(key: string): Promise<string> {
    const name = this.#name(key);
    return this.#call("download", key, async (client) => {
      const info = await this.#head(client, name);
      if (!info) throw notFound(this, key);
      const cached = this.#cachePath(key, info.etag);
      const existing = await stat(cached).catch(() => undefined);
      if (existing?.size === info.size) return cached;
      await mkdir(dirname(cached), { recursive: true });
      const partial = `${cached}.${randomBytes(6).toString("hex")}.part`;
      try {
        await pipeline(await client.getObject(this.#options.bucket, name), createWriteStream(partial));
        await rename(partial, cached);
      } finally {
        await rm(partial, { force: true });
      }
      return cached;
    });
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const name = this.#name(key);
    return this.#call("stat", key, async (client) => {
      const info = await this.#head(client, name);
      return info && { key, size: info.size, modified: info.modified };
    });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const normalized = normalizePrefix(prefix);
    return this.#call("list", prefix, async (client) => {
      const results: ObjectInfo[] = [];
      const stream = client.listObjectsV2(this.#options.bucket, this.#prefix + normalized, true);
      for await (const item of stream as AsyncIterable<{ name?: string; size: number; lastModified: Date }>) {
        if (!item.name) continue;
        const key = item.name.slice(this.#prefix.length);
        if (!isValidKey(key)) continue; // foreign objects that no lake key can name
        results.push({ key, size: item.size, modified: item.lastModified });
      }
      return results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  async delete(key: string): Promise<void> {
    const name = this.#name(key);
    await this.#call("delete", key, (client) => client.removeObject(this.#options.bucket, name));
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "NoSuchKey" || code === "NotFound";
}

function isValidKey(key: string): boolean {
  try {
    normalizeKey(key);
    return true;
  } catch {
    return false;
  }
}
