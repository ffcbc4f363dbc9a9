/**
 * Versioned, atomically switched site folders.
 *
 * Layout under `siteDir`:
 *   builds/<buildId>/   one complete build each; ids sort by time (UTC timestamp + random)
 *   builds/<id>.partial a build in progress (or abandoned by a crash), never served
 *   current -> builds/<buildId>   relative symlink to the live build
 *
 * Invariants: `current` always points at a complete build (or does not exist yet). It is
 * switched with rename(2) over a fresh symlink, so a reader sees the old or the new build, never
 * a missing or half-written one. Pruning never removes the build `current` points at.
 */
import { randomBytes } from "node:crypto";
import { readdir, readlink, rename, rm, stat, symlink, unlink } from "node:fs/promises";
import { basename, join } from "node:path";

export const BUILDS_DIR = "builds";
export const CURRENT_LINK = "current";
export const PARTIAL_SUFFIX = ".partial";
const BUILD_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

/** A new build id: `20261125T191900123Z-1a2b3c` (UTC, milliseconds, then 24 random bits). */
export function createBuildId(now: Date = new Date(), random: () => string = defaultRandom): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${random()}`;
}

function defaultRandom(): string {
  return randomBytes(3).toString("hex");
}

export function isBuildId(name: string): boolean {
  return BUILD_ID.test(name);
}

/** The build id `current` points at, or undefined when nothing is published yet. */
export async function maybeCurrentBuild(siteDir: string): Promise<string | undefined> {
  try {
    return basename(await readlink(join(siteDir, CURRENT_LINK)));
  } catch {
    return undefined;
  }
}

/** Points `siteDir/current` at `builds/<buildId>` atomically (symlink + rename). */
export async function switchCurrent(siteDir: string, buildId: string): Promise<void> {
  const temp = join(siteDir, `${CURRENT_LINK}.tmp-${buildId}`);
  await unlink(temp).catch(() => undefined);
  await symlink(join(BUILDS_DIR, buildId), temp);
  try {
    await rename(temp, join(siteDir, CURRENT_LINK));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Complete builds, oldest first. */
export async function listBuilds(siteDir: string): Promise<string[]> {
  try {
    const entries = await readdir(join(siteDir, BUILDS_DIR));
    return entries.filter(isBuildId).sort();
  } catch {
    return [];
  }
}

/**
 * Keeps the newest `keep` builds and the current one; removes the rest, and partial folders left
 * by builds that crashed more than `staleMs` ago (younger ones may still be running).
 */
export async function pruneBuilds(
  siteDir: string,
  keep: number,
  options: { now?: Date; staleMs?: number } = {},
): Promise<string[]> {
  const { now = new Date(), staleMs = 24 * 60 * 60 * 1000 } = options;
  const current = await maybeCurrentBuild(siteDir);
  const builds = await listBuilds(siteDir);
  const removed: string[] = [];
  const retained = new Set(builds.slice(Math.max(0, builds.length - keep)));
  if (current) retained.add(current);
  for (const id of builds) {
    if (retained.has(id)) continue;
    await rm(join(siteDir, BUILDS_DIR, id), { recursive: true, force: true });
    removed.push(id);
  }
  const entries = await readdir(join(siteDir, BUILDS_DIR)).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.endsWith(PARTIAL_SUFFIX)) continue;
    const path = join(siteDir, BUILDS_DIR, entry);
    const info = await stat(path).catch(() => undefined);
    if (info && now.getTime() - info.mtimeMs > staleMs) {
      await rm(path, { recursive: true, force: true });
      removed.push(entry);
    }
  }
  return removed;
}
