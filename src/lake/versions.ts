/**
 * Version commits. A version of `<zone>/<dataset>` is the manifest object
 * `<zone>/<dataset>/_versions/<version, 8 digits>.json`, written with `writeIfAbsent`:
 *
 * - Atomic visibility: data files are written before the manifest; a version exists only once its
 *   manifest does, so readers never see a partial version.
 * - One winner: two writers that computed the same next version race on `writeIfAbsent`; the loser
 *   gets `VersionConflictError` and nothing it wrote becomes visible (its files are orphans for gc).
 * - The head is the highest committed version number.
 */
import { DataError, StorageError, VersionConflictError } from "../errors.ts";
import type { DataFile, Manifest, ManifestDraft } from "./manifest.ts";
import { joinKey, normalizeName } from "./names.ts";
import type { Storage } from "./storage.ts";
import type { VersionedZone } from "./zones.ts";

const VERSION_FILE = /^(\d{8})\.json$/;

export function versionsPrefix(zone: VersionedZone, dataset: string): string {
  return joinKey(zone, normalizeName(dataset), "_versions") + "/";
}

export function versionKey(zone: VersionedZone, dataset: string, version: number): string {
  return versionsPrefix(zone, dataset) + String(version).padStart(8, "0") + ".json";
}

/** Where an archived version's manifest lives: `archive/<zone>/<dataset>/_versions/<version>.json`. */
export function archivedVersionKey(zone: VersionedZone, dataset: string, version: number): string {
  return joinKey(
    "archive",
    zone,
    normalizeName(dataset),
    "_versions",
    String(version).padStart(8, "0") + ".json",
  );
}

/** Committed version numbers of a dataset, ascending. */
export async function listVersionNumbers(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
): Promise<number[]> {
  const objects = await storage.list(versionsPrefix(zone, dataset));
  const versions: number[] = [];
  for (const { key } of objects) {
    const match = VERSION_FILE.exec(key.slice(key.lastIndexOf("/") + 1));
    if (match?.[1]) versions.push(Number(match[1]));
  }
  return versions.sort((a, b) => a - b);
}

export async function readManifest(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
  version: number,
): Promise<Manifest> {
  const key = versionKey(zone, dataset, version);
  const bytes = await storage.maybeRead(key);
  if (bytes === undefined) {
    if (await storage.stat(archivedVersionKey(zone, dataset, version))) {
      throw new StorageError(
        `${zone}/${dataset} version ${version} is archived: run 'lakebook lake restore ${zone}/${dataset} ${version}' to read it`,
        { code: "ARCHIVED" },
      );
    }
    throw new StorageError(
      `${zone}/${dataset} has no version ${version}: run 'lakebook lake history ${zone}/${dataset}'`,
      { code: "NOT_FOUND" },
    );
  }
  try {
    return JSON.parse(bytes.toString("utf8")) as Manifest;
  } catch (error) {
    throw new DataError(`manifest ${key} is not valid JSON; the lake may have been edited by hand`, {
      cause: error,
    });
  }
}

/** The current (highest) version's manifest, or undefined when the dataset has none. */
export async function maybeHead(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
): Promise<Manifest | undefined> {
  const versions = await listVersionNumbers(storage, zone, dataset);
  const latest = versions.at(-1);
  return latest === undefined ? undefined : readManifest(storage, zone, dataset, latest);
}

/**
 * Commits `draft` as the version after `expectedParent` (null for the first version). Throws
 * VersionConflictError when the head moved since the caller read it, or when another writer
 * commits the same version number first.
 */
export async function commitVersion(
  storage: Storage,
  zone: VersionedZone,
  draft: ManifestDraft,
  options: { expectedParent: number | null; now?: () => Date },
): Promise<Manifest> {
  const versions = await listVersionNumbers(storage, zone, draft.dataset);
  const head = versions.at(-1) ?? null;
  if (head !== options.expectedParent) {
    throw new VersionConflictError(
      versionsPrefix(zone, draft.dataset),
      `${zone}/${draft.dataset} moved to version ${head} while this write was based on ${options.expectedParent}: rerun the step`,
    );
  }
  const version = (head ?? 0) + 1;
  const manifest: Manifest = {
    formatVersion: 1,
    ...draft,
    zone,
    version,
    parent: head,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
  };
  await storage.writeIfAbsent(
    versionKey(zone, draft.dataset, version),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  return manifest;
}

/** An archived manifest: the original, with `files` naming the archived copies. */
export interface ArchivedManifest extends Manifest {
  archivedAt: string;
  /** The files the version had in its zone. */
  originalFiles: DataFile[];
}

/** Version numbers of a dataset that are archived, ascending. */
export async function listArchivedVersions(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
): Promise<number[]> {
  const prefix = joinKey("archive", zone, normalizeName(dataset), "_versions") + "/";
  return (await storage.list(prefix))
    .map(({ key }) => /(\d{8})\.json$/.exec(key)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export async function readArchivedManifest(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
  version: number,
): Promise<ArchivedManifest> {
  const bytes = await storage.maybeRead(archivedVersionKey(zone, dataset, version));
  if (bytes === undefined) {
    throw new StorageError(
      `${zone}/${dataset} has no archived version ${version}: run 'lakebook lake history ${zone}/${dataset}'`,
      { code: "NOT_FOUND" },
    );
  }
  return JSON.parse(bytes.toString("utf8")) as ArchivedManifest;
}
