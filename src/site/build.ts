/**
 * `buildSite`: one offline Framework build of the notebooks, published atomically.
 *
 * 1. links `notebooks/data` to the loaders and clears cached loader outputs so every loader reruns
 *    (with LAKEBOOK_ROOT / LAKEBOOK_LAKE_DIR / LAKEBOOK_SITE_DIR taken from `config`);
 * 2. runs Framework's build offline into `siteDir/builds/<buildId>.partial` (frameworkRun.ts):
 *    npm imports are served from node_modules, a page importing a package that is not installed
 *    fails with what to install;
 * 3. scans the output for load-time requests to other origins (offOrigin.ts) and fails on any,
 *    and writes the pages' access rules from their front matter (pageAccess.ts);
 * 4. renames the folder to `builds/<buildId>`, switches `current` to it (publish.ts) and prunes
 *    old builds.
 * Any failure leaves `current` as it was and removes the partial folder. Builds in one process
 * run one at a time: Framework keeps process-wide caches and the guard patches `fetch`.
 */
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { BuildError } from "../errors.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { selfHostedStylesheets } from "./fonts.ts";
import { readFrameworkSpec } from "./framework.ts";
import { runFrameworkBuild } from "./frameworkRun.ts";
import { LAKEBOOK_ROOT } from "./localNpm.ts";
import { linkLoaders } from "./loaders.ts";
import { writePageAccess } from "./pageAccess.ts";
import { findOffOriginReferences, type OffOriginReference } from "./offOrigin.ts";
import {
  BUILDS_DIR,
  PARTIAL_SUFFIX,
  createBuildId,
  maybeCurrentBuild,
  pruneBuilds,
  switchCurrent,
} from "./publish.ts";

/** Side effects of a build, swappable in tests. */
export interface BuildSiteEffects {
  readonly logger: Logger;
  /** Clock for the build id. */
  readonly now: () => Date;
  /** Random suffix of the build id (6 hex digits). */
  readonly random?: () => string;
}

export interface BuildSiteOptions {
  /** How many complete builds to keep, the current one always included (default 5). */
  readonly keep?: number;
  /**
   * Rerun every data loader (default true). Framework reuses a loader's cached output for as long
   * as the loader file itself is unchanged, which would republish old data on a scheduled
   * rebuild; false keeps that reuse (faster, for layout-only rebuilds).
   */
  readonly freshData?: boolean;
}

export interface BuildSiteResult {
  readonly buildId: string;
  /** Absolute folder of the new build; `siteDir/current` points at it. */
  readonly dir: string;
  /** The build `current` pointed at before, if any. */
  readonly previous: string | undefined;
  /** Builds removed by pruning. */
  readonly pruned: readonly string[];
  readonly durationMs: number;
}

export const DEFAULT_KEEP_BUILDS = 5;

let queue: Promise<unknown> = Promise.resolve();

/** Builds the notebooks offline into a new versioned folder and publishes it; see module doc. */
export function buildSite(
  config: Config,
  effects: Partial<BuildSiteEffects> = {},
  options: BuildSiteOptions = {},
): Promise<BuildSiteResult> {
  const run = queue.then(
    () => buildSiteNow(config, effects, options),
    () => buildSiteNow(config, effects, options),
  );
  queue = run.catch(() => undefined);
  return run;
}

async function buildSiteNow(
  config: Config,
  effects: Partial<BuildSiteEffects>,
  options: BuildSiteOptions,
): Promise<BuildSiteResult> {
  const logger = effects.logger ?? silentLogger;
  const now = effects.now ?? (() => new Date());
  const keep = options.keep ?? DEFAULT_KEEP_BUILDS;
  if (!Number.isInteger(keep) || keep < 1)
    throw new BuildError(`keep must be a whole number >= 1, got ${keep}`);
  const started = performance.now();
  const buildId = createBuildId(now(), effects.random);
  const buildsDir = join(config.siteDir, BUILDS_DIR);
  const partialDir = join(buildsDir, `${buildId}${PARTIAL_SUFFIX}`);
  const finalDir = join(buildsDir, buildId);
  const log = logger.child({ buildId });

  await linkLoaders(config);
  if (options.freshData !== false) await clearLoaderOutputs(config.notebooksDir);
  await mkdir(partialDir, { recursive: true });
  try {
    await runFramework(config, partialDir, log);
    const references = await findOffOriginReferences(partialDir);
    if (references.length > 0) throw offOriginError(references);
    const restricted = await writePageAccess(config.notebooksDir, partialDir);
    if (restricted.length > 0) log.info({ rules: restricted.length }, "page access rules from front matter");
    await rename(partialDir, finalDir);
  } catch (error) {
    await rm(partialDir, { recursive: true, force: true });
    throw error;
  }
  const previous = await maybeCurrentBuild(config.siteDir);
  await switchCurrent(config.siteDir, buildId);
  const pruned = await pruneBuilds(config.siteDir, keep, { now: now() });
  const durationMs = Math.round(performance.now() - started);
  log.info({ dir: finalDir, previous, pruned, durationMs }, "site built and published");
  return { buildId, dir: finalDir, previous, pruned, durationMs };
}

async function runFramework(config: Config, outputDir: string, logger: Logger): Promise<void> {
  const spec = await readFrameworkSpec(config.root);
  const restoreEnvironment = setLoaderEnvironment(config);
  try {
    await runFrameworkBuild({
      spec: { ...spec, globalStylesheets: selfHostedStylesheets(spec.globalStylesheets) },
      root: config.notebooksDir,
      outputDir,
      searchRoots: [config.root, LAKEBOOK_ROOT],
      logger,
    });
  } finally {
    restoreEnvironment();
  }
}

/**
 * Loaders are child processes that build their own Config from the environment (configFromEnv);
 * they must see the one this build was given, not whatever the parent process started with.
 * Builds are serialized, so the temporary change cannot leak into another build.
 */
function setLoaderEnvironment(config: Config): () => void {
  const values: Record<string, string> = {
    LAKEBOOK_ROOT: config.root,
    LAKEBOOK_LAKE_DIR: config.lakeDir,
    LAKEBOOK_SITE_DIR: config.siteDir,
  };
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/**
 * Removes cached loader outputs: everything in Framework's cache except its own `_`-prefixed
 * folders (`_npm`, `_observablehq`, `_duckdb`, `_lakebook`, ...) and files.
 */
async function clearLoaderOutputs(notebooksDir: string): Promise<void> {
  const cacheDir = join(notebooksDir, ".observablehq", "cache");
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (entry.startsWith("_") || entry.startsWith(".")) continue;
    await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
}

/** What to do about an off-origin reference, for the build errors of both kinds of project. */
export const OFF_ORIGIN_FIX =
  "Serve them from the site instead: for an npm library, `npm install --save-exact <name>` and import " +
  "`npm:<name>`; for a stylesheet or font, install it from npm and import it from a local stylesheet; for " +
  "other files, put them under the pages' folder (or emit them from a data loader) and reference them by relative path";

export function offOriginError(references: readonly OffOriginReference[]): BuildError {
  const shown = references.slice(0, 5).map((r) => `${r.file}: ${r.via} ${r.url}`);
  const more = references.length > shown.length ? ` (and ${references.length - shown.length} more)` : "";
  return new BuildError(
    `the built site would load files from other origins, which fails offline and leaks readers' visits: ` +
      `${shown.join("; ")}${more}. ${OFF_ORIGIN_FIX}`,
  );
}
