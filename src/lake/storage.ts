/**
 * The storage interface every lake backend implements (local filesystem by default, S3-compatible
 * object storage when a team outgrows one machine). Invariants every backend guarantees, checked
 * by the shared contract tests:
 *
 * - Atomic visibility: a reader sees either the whole previous object or the whole new one, never
 *   a partial write (`write` and `putFile` go through a temporary object and a rename or a single
 *   PUT).
 * - Create-only-if-absent: `writeIfAbsent` fails with `VersionConflictError` when the key exists;
 *   two writers racing for the same key cannot both succeed. Version commits rely on this.
 * - Consistent listing: `list` returns only committed objects, never temporary files.
 * - Keys are validated by `normalizeKey`: nothing outside the lake root can be addressed.
 */
import { StorageError } from "../errors.ts";

export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
}

export interface Storage {
  /** A short description for messages, e.g. "file:/srv/lake" or "s3://bucket/prefix". */
  readonly location: string;
  /**
   * Remote backends only: the local folder of downloaded copies, laid out as
   * `<key folders>/<etag>-<file name>`; `lake gc` prunes copies of objects that no longer exist.
   */
  readonly cacheDir?: string;
  read(key: string): Promise<Buffer>;
  /** Reads the object or returns undefined when it does not exist. */
  maybeRead(key: string): Promise<Buffer | undefined>;
  /** Writes (or replaces) an object atomically. */
  write(key: string, data: Buffer | string): Promise<void>;
  /** Writes an object only if no object has that key; throws VersionConflictError otherwise. */
  writeIfAbsent(key: string, data: Buffer | string): Promise<void>;
  /** Moves a local file into the store under `key` atomically (the local file is consumed). */
  putFile(key: string, localPath: string): Promise<void>;
  /** Returns a local filesystem path holding the object's bytes, for DuckDB to read. */
  localPath(key: string): Promise<string>;
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Lists committed objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
}

/** The error every backend throws for a key that is not there (code NOT_FOUND). */
export function notFound(storage: Pick<Storage, "location">, key: string): StorageError {
  return new StorageError(`'${key}' does not exist in ${storage.location}`, { code: "NOT_FOUND" });
}
