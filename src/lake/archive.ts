/**
 * Retention and archive: versions older than a policy move from their zone to `archive/`, with
 * their Parquet rewritten at a high ZSTD level; they stay listable and can be restored.
 *
 * Layout: `archive/<zone>/<dataset>/_versions/<version>.json` is the archived manifest (the
 * original one, its `files` pointing at the archived copies) and
 * `archive/<zone>/<dataset>/data/<original sha256>.parquet` the data, content-addressed so raw
 * versions that share files share their archived copies too.
 *
 * Invariants:
 * - The current (highest) version is never archived, nor the `keepLatest` newest ones.
 * - Crash-safe order: archived files, then the archived manifest (create-only-if-absent), then the
 *   live manifest is removed, then live files no remaining live version names. A crash at any
 *   point leaves the version readable in one place or both; a rerun finishes the move, and
 *   `lake gc` removes copies nothing names.
 * - Restore writes the version back under its own number with copies of the archived files, then
 *   removes the archived manifest; readers pinned to that number can read it again.
 */
import { copyFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { StorageError, VersionConflictError } from "../errors.ts";
import { listDatasets } from "./catalog.ts";
import type { Lake } from "./lake.ts";
import { newWriteId } from "./lake.ts";
import type { DataFile, Manifest } from "./manifest.ts";
import { joinKey, normalizeName } from "./names.ts";
import type { Storage } from "./storage.ts";
import { sha256OfFile } from "./verify.ts";
import {
  type ArchivedManifest,
  archivedVersionKey,
  listVersionNumbers,
  readArchivedManifest,
  readManifest,
  versionKey,
} from "./versions.ts";
import type { VersionedZone } from "./zones.ts";

export interface RetentionPolicy {
  /** Archive versions committed longer ago than this. */
  olderThanMs: number;
  /** Always keep this many newest versions live (at least 1: the current version). */
  keepLatest?: number;
}

export interface ArchiveOptions {
  policy: RetentionPolicy;
  /** Move the versions; otherwise only report which would move. */
  apply?: boolean;
  now?: () => Date;
}

export interface ArchivePlanEntry {
  zone: VersionedZone;
  dataset: string;
  version: number;
  createdAt: string;
  bytes: number;
}

export interface ArchiveResult {
  applied: boolean;
  versions: ArchivePlanEntry[];
}

/** Which versions of a dataset the policy archives: old enough, not among the newest kept. */
export async function planArchive(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
  options: Omit<ArchiveOptions, "apply">,
): Promise<ArchivePlanEntry[]> {
  const keep = Math.max(1, options.policy.keepLatest ?? 1);
  const cutoff = (options.now ?? (() => new Date()))().getTime() - options.policy.olderThanMs;
  const versions = await listVersionNumbers(storage, zone, dataset);
  const candidates = versions.slice(0, Math.max(0, versions.length - keep));
  const plan: ArchivePlanEntry[] = [];
  for (const version of candidates) {
    const manifest = await readManifest(storage, zone, dataset, version);
    if (new Date(manifest.createdAt).getTime() <= cutoff) {
      plan.push({ zone, dataset, version, createdAt: manifest.createdAt, bytes: manifest.bytes });
    }
  }
  return plan;
}

export async function archiveVersions(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  options: ArchiveOptions,
): Promise<ArchiveResult> {
  const name = normalizeName(dataset);
  const plan = await planArchive(lake.storage, zone, name, options);
  if (options.apply) {
    for (const entry of plan) await archiveVersion(lake, zone, name, entry.version, options.now);
  }
  return { applied: options.apply === true, versions: plan };
}

async function archiveVersion(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  version: number,
  now: () => Date = () => new Date(),
): Promise<void> {
  const { storage } = lake;
  const versions = await listVersionNumbers(storage, zone, dataset);
  if (version === versions.at(-1)) {
    throw new StorageError(`refusing to archive ${zone}/${dataset} v${version}: it is the current version`);
  }
  const manifest = await readManifest(storage, zone, dataset, version);
  const files: DataFile[] = [];
  const scratch = await lake.scratch();
  try {
    for (const file of manifest.files) {
      const key = joinKey("archive", zone, dataset, "data", `${file.sha256}.parquet`);
      const existing = await storage.stat(key);
      const local = join(scratch, `${file.sha256}.parquet`);
      if (!existing) {
        await recompress(await storage.localPath(file.key), local);
        files.push({ ...file, key, size: (await stat(local)).size, sha256: await sha256OfFile(local) });
        await storage.putFile(key, local);
      } else {
        const path = await storage.localPath(key);
        files.push({ ...file, key, size: existing.size, sha256: await sha256OfFile(path) });
      }
    }
    let rejectsKey = manifest.rejects.key;
    if (rejectsKey) {
      const archivedRejects = joinKey("archive", zone, dataset, "data", `v${version}-rejects.json`);
      await storage.write(archivedRejects, await storage.read(rejectsKey));
      rejectsKey = archivedRejects;
    }
    const archived: ArchivedManifest = {
      ...manifest,
      files,
      rejects: { ...manifest.rejects, key: rejectsKey },
      archivedAt: now().toISOString(),
      originalFiles: manifest.files,
    };
    try {
      await storage.writeIfAbsent(
        archivedVersionKey(zone, dataset, version),
        JSON.stringify(archived, null, 2) + "\n",
      );
    } catch (error) {
      // A previous run archived it and crashed before removing the live version: finish the move.
      if (!(error instanceof VersionConflictError)) throw error;
    }
  } finally {
    await lake.releaseScratch(scratch);
  }
  await storage.delete(versionKey(zone, dataset, version));
  const stillNamed = new Set<string>();
  for (const live of await listVersionNumbers(storage, zone, dataset)) {
    const other = await readManifest(storage, zone, dataset, live);
    for (const file of other.files) stillNamed.add(file.key);
    if (other.rejects.key) stillNamed.add(other.rejects.key);
  }
  for (const key of [...manifest.files.map((f) => f.key), manifest.rejects.key]) {
    if (key && !stillNamed.has(key)) await storage.delete(key);
  }
}

/** Applies the policy to every dataset of the versioned zones. */
export async function archiveLake(lake: Lake, options: ArchiveOptions): Promise<ArchiveResult> {
  const versions: ArchivePlanEntry[] = [];
  for (const zone of ["raw", "staging", "curated"] as const) {
    for (const dataset of await listDatasets(lake.storage, zone)) {
      versions.push(...(await archiveVersions(lake, zone, dataset, options)).versions);
    }
  }
  return { applied: options.apply === true, versions };
}

/** Brings an archived version back into its zone under its own number. */
export async function restoreVersion(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  version: number,
): Promise<Manifest> {
  const { storage } = lake;
  const name = normalizeName(dataset);
  const archived = await readArchivedManifest(storage, zone, name, version);
  if (await storage.stat(versionKey(zone, name, version))) {
    throw new StorageError(`${zone}/${name} v${version} is already live; nothing to restore`, {
      code: "EXISTS",
    });
  }
  const writeId = newWriteId();
  const files: DataFile[] = [];
  const scratch = await lake.scratch();
  try {
    for (const file of archived.files) {
      const local = join(scratch, `${file.sha256}.parquet`);
      await copyFile(await storage.localPath(file.key), local);
      const key = joinKey(zone, name, "data", `restored-${writeId}`, `${file.sha256}.parquet`);
      files.push({ ...file, key });
      await storage.putFile(key, local);
    }
  } finally {
    await lake.releaseScratch(scratch);
  }
  let rejectsKey = archived.rejects.key;
  if (rejectsKey) {
    const restored = joinKey(zone, name, "data", `restored-${writeId}`, "rejects.json");
    await storage.write(restored, await storage.read(rejectsKey));
    rejectsKey = restored;
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { archivedAt, originalFiles, ...rest } = archived;
  const manifest: Manifest = {
    ...rest,
    files,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    rejects: { ...archived.rejects, key: rejectsKey },
  };
  await storage.writeIfAbsent(versionKey(zone, name, version), JSON.stringify(manifest, null, 2) + "\n");
  await storage.delete(archivedVersionKey(zone, name, version));
  return manifest;
}

/** Rewrites a Parquet file with ZSTD at a high level, same rows in the same order. */
async function recompress(input: string, output: string): Promise<void> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:", {
    threads: "2",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const connection = await instance.connect();
  const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
  try {
    // Keep the row group size, so a restored curated version range-reads as before.
    const reader = await connection.runAndReadAll(
      `SELECT max(row_group_num_rows) AS n FROM parquet_metadata(${literal(input)})`,
    );
    const rowGroupSize = Math.max(1, Number(reader.getRowObjectsJson()[0]?.n ?? 122_880));
    await connection.run(
      `COPY (SELECT * FROM read_parquet(${literal(input)}, hive_partitioning = false)) TO ${literal(output)}
       (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 19, ROW_GROUP_SIZE ${rowGroupSize})`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
