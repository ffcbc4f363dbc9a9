/**
 * Garbage collection: removes what crashed or losing writers left behind, never anything a
 * committed version can reach.
 *
 * - Data files under `<zone>/<dataset>/data/` that no manifest names (live or archived): a writer
 *   died or lost its commit race after uploading them.
 * - Validation results (`<zone>/<dataset>/_quality/<run>.json`) and quarantined rows
 *   (`_quarantine/<writeId>.parquet`) of a promotion that was never committed (it crashed or lost
 *   to another writer after its gate passed). A failed gate's result is kept: it records why a
 *   promotion was blocked, with the quarantine file it names.
 * - Landing bytes without a provenance record: a crash between the two writes of `landBytes`.
 * - Local leftovers under `<lakeDir>/.tmp/` (scratch folders, temporary files), and for remote
 *   backends cached copies of objects that no longer exist (archived, collected, replaced).
 *
 * Only objects older than the grace period are candidates, so a write in progress (its files are
 * fresh, its manifest not yet committed) is never collected. Dry-run by default: `apply` deletes.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { TEMP_DIR } from "./fsStorage.ts";
import type { Lake } from "./lake.ts";
import type { Manifest } from "./manifest.ts";
import type { ObjectInfo, Storage } from "./storage.ts";
import { ZONES } from "./zones.ts";

export interface GcOptions {
  /** Delete the candidates; otherwise only report them. */
  apply?: boolean;
  /** Only collect what is older than this (default one hour). */
  graceMs?: number;
  now?: () => Date;
}

export interface GcCandidate {
  /** `store`: an object in the lake's storage; `local`: a path under the local lake folder. */
  where: "store" | "local";
  key: string;
  bytes: number;
  reason: string;
}

export interface GcResult {
  applied: boolean;
  candidates: GcCandidate[];
  bytes: number;
}

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

const MANIFEST_KEY = /\/_versions\/\d{8}\.json$/;
const DATA_KEY = /^(raw|staging|curated|archive)\/.+\/data\//;
const QUALITY_KEY = /^(raw|staging|curated)\/[^/]+\/_quality\/[^/]+\.json$/;
const QUARANTINE_KEY = /^(?:raw|staging|curated)\/[^/]+\/_quarantine\/([^/]+)\.parquet$/;
const LANDING_BYTES = /^landing\/source=([^/]+)\/date=[^/]+\/([0-9a-f]{64})\.[a-z0-9]+$/;

/** Every key some committed manifest (live or archived) names. */
export async function referencedKeys(storage: Storage): Promise<Set<string>> {
  return (await scanManifests(storage)).keys;
}

/** The keys committed manifests (live or archived) name, and their write ids. */
async function scanManifests(storage: Storage): Promise<{ keys: Set<string>; writeIds: Set<string> }> {
  const keys = new Set<string>();
  const writeIds = new Set<string>();
  for (const zone of ZONES) {
    if (zone === "landing") continue;
    for (const { key } of await storage.list(`${zone}/`)) {
      if (!MANIFEST_KEY.test(key)) continue;
      keys.add(key);
      const manifest = JSON.parse((await storage.read(key)).toString("utf8")) as Manifest;
      writeIds.add(manifest.writeId);
      for (const file of manifest.files) keys.add(file.key);
      if (manifest.rejects.key) keys.add(manifest.rejects.key);
      if (manifest.quality?.key) keys.add(manifest.quality.key);
    }
  }
  return { keys, writeIds };
}

/** The fields of a stored validation result (src/quality/results.ts) that gc needs. */
interface StoredResult {
  kind?: string;
  status?: string;
  writeId?: string;
  quarantine?: { key?: string } | null;
}

/**
 * Validation results and quarantine files of writes no committed version names. A result is
 * kept when it belongs to a committed version (live or archived), records a blocked gate (a
 * failed gate run), or cannot be read (never delete what is not understood).
 */
async function qualityOrphans(
  storage: Storage,
  objects: ObjectInfo[],
  writeIds: Set<string>,
  cutoff: number,
): Promise<GcCandidate[]> {
  const candidates: GcCandidate[] = [];
  const keptQuarantine = new Set<string>();
  for (const object of objects.filter((o) => QUALITY_KEY.test(o.key))) {
    let result: StoredResult;
    try {
      result = JSON.parse((await storage.read(object.key)).toString("utf8")) as StoredResult;
    } catch {
      continue;
    }
    const committed = result.writeId !== undefined && writeIds.has(result.writeId);
    const blocked = result.kind === "gate" && result.status === "fail";
    if (committed || blocked || object.modified.getTime() > cutoff) {
      if (result.quarantine?.key) keptQuarantine.add(result.quarantine.key);
      continue;
    }
    candidates.push({
      where: "store",
      key: object.key,
      bytes: object.size,
      reason: "validation result of a write that was never committed",
    });
  }
  for (const object of objects) {
    const match = QUARANTINE_KEY.exec(object.key);
    if (!match?.[1] || writeIds.has(match[1]) || keptQuarantine.has(object.key)) continue;
    if (object.modified.getTime() > cutoff) continue;
    candidates.push({
      where: "store",
      key: object.key,
      bytes: object.size,
      reason: "quarantined rows of a write that was never committed",
    });
  }
  return candidates;
}

export async function collectGarbage(lake: Lake, options: GcOptions = {}): Promise<GcResult> {
  const now = (options.now ?? (() => new Date()))().getTime();
  const cutoff = now - (options.graceMs ?? DEFAULT_GC_GRACE_MS);
  const { storage } = lake;
  const candidates: GcCandidate[] = [];

  const { keys: referenced, writeIds } = await scanManifests(storage);
  for (const zone of ZONES) {
    if (zone === "landing") continue;
    const objects = await storage.list(`${zone}/`);
    if (zone !== "archive") candidates.push(...(await qualityOrphans(storage, objects, writeIds, cutoff)));
    for (const object of objects) {
      if (!DATA_KEY.test(object.key) || referenced.has(object.key)) continue;
      if (object.modified.getTime() > cutoff) continue;
      candidates.push({
        where: "store",
        key: object.key,
        bytes: object.size,
        reason: "named by no committed version",
      });
    }
  }

  const landing = await storage.list("landing/");
  const records = new Set(landing.map((o) => o.key).filter((key) => key.includes("/_sha256/")));
  for (const object of landing) {
    const match = LANDING_BYTES.exec(object.key);
    if (!match || object.modified.getTime() > cutoff) continue;
    if (records.has(`landing/source=${match[1]}/_sha256/${match[2]}.json`)) continue;
    candidates.push({
      where: "store",
      key: object.key,
      bytes: object.size,
      reason: "landed bytes without a provenance record",
    });
  }

  if (storage.cacheDir) {
    const existing = new Set((await storage.list("")).map((o) => o.key));
    for (const { path, relativePath, bytes, modified } of await walkFiles(storage.cacheDir)) {
      if (modified > cutoff) continue;
      const segments = relativePath.split(sep);
      const file = segments.pop() ?? "";
      const key = [...segments, file.replace(/^[A-Za-z0-9-]*?-/, "")].join("/");
      if (file.endsWith(".part") || !existing.has(key)) {
        candidates.push({
          where: "local",
          key: relative(lake.lakeDir, path),
          bytes,
          reason: file.endsWith(".part")
            ? "unfinished download"
            : "cached copy of an object that no longer exists",
        });
      }
    }
  }

  const tempDir = join(lake.lakeDir, TEMP_DIR);
  for (const name of await readdir(tempDir).catch(() => [] as string[])) {
    const path = join(tempDir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info || info.mtime.getTime() > cutoff) continue;
    candidates.push({
      where: "local",
      key: join(TEMP_DIR, name),
      bytes: await sizeOf(path),
      reason: "temporary file of an unfinished write",
    });
  }

  if (options.apply) {
    for (const candidate of candidates) {
      if (candidate.where === "store") await storage.delete(candidate.key);
      else await rm(join(lake.lakeDir, candidate.key), { recursive: true, force: true });
    }
  }
  return {
    applied: options.apply === true,
    candidates,
    bytes: candidates.reduce((sum, c) => sum + c.bytes, 0),
  };
}

async function walkFiles(
  root: string,
): Promise<{ path: string; relativePath: string; bytes: number; modified: number }[]> {
  const files: { path: string; relativePath: string; bytes: number; modified: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const info = await stat(path).catch(() => undefined);
        if (info)
          files.push({
            path,
            relativePath: relative(root, path),
            bytes: info.size,
            modified: info.mtime.getTime(),
          });
      }
    }
  };
  await walk(root);
  return files;
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await sizeOf(join(path, name));
  return total;
}
