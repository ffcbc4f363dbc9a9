/**
 * Makes the project's data loaders visible to the notebooks: `<notebooksDir>/data` is a relative
 * symlink to the loaders folder, so `loaders/prices.csv.ts` serves `FileAttachment("data/prices.csv")`.
 * The link is committed in git too; this repairs it (e.g. after a checkout on a filesystem that
 * dropped it, or a config that moved the loaders).
 */
import { lstat, mkdir, readlink, rename, symlink, unlink } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Config } from "../config.ts";
import { BuildError } from "../errors.ts";

/** The folder name under the Framework root through which pages reach the loaders. */
export const LOADERS_LINK = "data";

/** Ensures `<notebooksDir>/data` -> relative path to `loadersDir`; returns the link's path. */
export async function linkLoaders(config: Pick<Config, "notebooksDir" | "loadersDir">): Promise<string> {
  const link = join(config.notebooksDir, LOADERS_LINK);
  const target = relative(config.notebooksDir, config.loadersDir) || ".";
  await mkdir(config.loadersDir, { recursive: true });
  const info = await lstat(link).catch(() => undefined);
  if (info && !info.isSymbolicLink()) {
    throw new BuildError(
      `${link} exists and is not a symlink: move its files into ${config.loadersDir} ` +
        `(loaders, or static files they need), delete it, and build again to restore the link`,
    );
  }
  if (info && (await readlink(link)) === target) return link;
  // Replace atomically so a concurrent preview never sees the link missing.
  const temp = `${link}.tmp-${process.pid}`;
  await unlink(temp).catch(() => undefined);
  await symlink(target, temp);
  await rename(temp, link);
  return link;
}
