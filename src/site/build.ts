/**
 * `buildSite`: one offline Framework build of the notebooks, published atomically.
 *
 * 1. links `notebooks/data` to the loaders and decides per cached loader output whether to reuse
 *    it or rerun its loader (loaderCache.ts: the loader's code, the dataset versions it read, its
 *    maximum age), with LAKEBOOK_ROOT / LAKEBOOK_LAKE_DIR / LAKEBOOK_SITE_DIR taken from `config`;
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
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { BuildError } from "../errors.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { selfHostedStylesheets } from "./fonts.ts";
import { createLake, LOADER_READS_ENV, readRecordedReads } from "../lake/index.ts";
import { type BuildPhase, type BuildProgress, type ProgressListener } from "./buildProgress.ts";
import { loadFramework, readFrameworkSpec } from "./framework.ts";
import { planLoaders, recordLoaderRuns, type LoaderDecision } from "./loaderCache.ts";
import { observeLoaderRuns } from "./loaderRuns.ts";
import { runFrameworkBuild } from "./frameworkRun.ts";
import { LAKEBOOK_ROOT } from "./localNpm.ts";
import { linkLoaders } from "./loaders.ts";
import { writePageAccess } from "./pageAccess.ts";
import {
  concatDynamicPaths,
  findEntityPages,
  normalizeDynamicPaths,
  resolveEntityPaths,
} from "./entityPaths.ts";
import { findOffOriginReferences, type OffOriginReference } from "./offOrigin.ts";
import {
  BUILDS_DIR,
  PARTIAL_SUFFIX,
  createBuildId,
  maybeCurrentBuild,
  pruneBuilds,
  switchCurrent,
} from "./publish.ts";
import { precompressBuild } from "./precompress.ts";

/** Side effects of a build, swappable in tests. */
export interface BuildSiteEffects {
  readonly logger: Logger;
  /** Clock for the build id. */
  readonly now: () => Date;
  /** Random suffix of the build id (6 hex digits). */
  readonly random?: () => string;
  /** Receives each phase, loader decision and result and the page count as they happen. */
  readonly onProgress?: ProgressListener;
}

export interface BuildSiteOptions {
  /** How many complete builds to keep, the current one always included (default 5). */
  readonly keep?: number;
  /**
   * Loaders to rerun whatever the cache says: `true` for all, or names (an output such as
   * `data/market.json`, a loader file, or a base name such as `market`). Otherwise each cached
   * output is reused only while its inputs are unchanged (loaderCache.ts).
   */
  readonly refresh?: boolean | readonly string[];
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
  /** Why each loader output was reused or rerun (also in the build's `.lakebook/loaders.json`). */
  readonly loaders: readonly LoaderDecision[];
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

  const progress = (event: BuildProgress) => effects.onProgress?.(event);
  let phaseStarted = performance.now();
  const phaseDone = (phase: BuildPhase, detail?: string) => {
    const at = performance.now();
    progress({ kind: "phase", phase, durationMs: Math.round(at - phaseStarted), ...(detail && { detail }) });
    phaseStarted = at;
  };

  await linkLoaders(config);
  const spec = await readFrameworkSpec(config.root);
  const framework = await loadFramework();
  const { interpreters } = framework.normalizeConfig({ ...spec, root: config.notebooksDir });
  const createResolver = (root: string) => new framework.LoaderResolver({ root, interpreters });
  const resolver = createResolver(config.notebooksDir);
  // Pages per entity: their paths come from the lake now, before any loader runs (entityPaths.ts).
  const entityPaths = await resolveEntityPaths(
    createLake(config),
    await findEntityPages(config.notebooksDir),
  );
  if (entityPaths.length > 0) log.info({ pages: entityPaths.length }, "pages per entity");
  const ranAt = now();
  const decisions = await planLoaders({
    notebooksDir: config.notebooksDir,
    projectRoot: config.root,
    resolver,
    lake: createLake(config),
    ...(options.refresh !== undefined && { refresh: options.refresh }),
    now: () => ranAt,
  });
  for (const decision of decisions) progress({ kind: "decision", ...decision });
  const reused = decisions.filter((d) => d.action === "reuse").length;
  phaseDone("prepare", `${reused} of ${decisions.length} cached loader outputs reused`);
  await mkdir(partialDir, { recursive: true });
  const readsDir = await mkdtemp(join(tmpdir(), "lakebook-reads-"));
  const ran = new Map<string, LoaderDecision>();
  const stopObserving = observeLoaderRuns(createResolver, (run) => {
    const planned = decisions.find((d) => d.target === run.target);
    ran.set(run.target, {
      target: run.target,
      action: "rerun",
      reason: planned?.action === "rerun" ? planned.reason : "no cached output",
    });
    progress({ kind: "loader", ...run });
  });
  try {
    const dynamicPaths = concatDynamicPaths(
      normalizeDynamicPaths(spec.dynamicPaths),
      normalizeDynamicPaths(entityPaths),
    );
    await runFramework(config, { ...spec, dynamicPaths }, partialDir, readsDir, log, progress);
    stopObserving();
    await recordLoaderRuns({
      notebooksDir: config.notebooksDir,
      projectRoot: config.root,
      resolver,
      ran: [...ran.keys()],
      reads: readRecordedReads(readsDir),
      ranAt,
    });
    phaseDone("pages");
    const references = await findOffOriginReferences(partialDir);
    if (references.length > 0) throw offOriginError(references);
    const compressed = await precompressBuild(partialDir);
    log.info(compressed, "assets precompressed (brotli, gzip)");
    const restricted = await writePageAccess(config.notebooksDir, partialDir);
    if (restricted.length > 0) log.info({ rules: restricted.length }, "page access rules from front matter");
    phaseDone("check");
    await writeLoaderDecisions(partialDir, finalDecisions(decisions, ran));
    await rename(partialDir, finalDir);
  } catch (error) {
    await rm(partialDir, { recursive: true, force: true });
    throw error;
  } finally {
    stopObserving();
    await rm(readsDir, { recursive: true, force: true });
  }
  const previous = await maybeCurrentBuild(config.siteDir);
  await switchCurrent(config.siteDir, buildId);
  const pruned = await pruneBuilds(config.siteDir, keep, { now: now() });
  phaseDone("publish");
  const durationMs = Math.round(performance.now() - started);
  const loaders = finalDecisions(decisions, ran);
  log.info({ dir: finalDir, previous, pruned, durationMs }, "site built and published");
  return { buildId, dir: finalDir, previous, pruned, durationMs, loaders };
}

/** Planned decisions, plus the loaders Framework ran without a cached output to decide on. */
function finalDecisions(
  planned: readonly LoaderDecision[],
  ran: ReadonlyMap<string, LoaderDecision>,
): LoaderDecision[] {
  const byTarget = new Map(planned.map((decision) => [decision.target, decision]));
  for (const [target, decision] of ran) if (!byTarget.has(target)) byTarget.set(target, decision);
  return [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target));
}

/** The decisions travel with the build, as its access rules do (never served: `.lakebook/`). */
async function writeLoaderDecisions(buildDir: string, decisions: readonly LoaderDecision[]): Promise<void> {
  await mkdir(join(buildDir, ".lakebook"), { recursive: true });
  await writeFile(join(buildDir, ".lakebook", "loaders.json"), JSON.stringify(decisions, null, 2) + "\n");
}

async function runFramework(
  config: Config,
  spec: Record<string, unknown>,
  outputDir: string,
  readsDir: string,
  logger: Logger,
  onProgress: ProgressListener,
): Promise<void> {
  const restoreEnvironment = setLoaderEnvironment(config, readsDir);
  try {
    await runFrameworkBuild({
      spec: { ...spec, globalStylesheets: selfHostedStylesheets(spec.globalStylesheets) },
      root: config.notebooksDir,
      outputDir,
      searchRoots: [config.root, LAKEBOOK_ROOT],
      logger,
      onProgress,
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
function setLoaderEnvironment(config: Config, readsDir: string): () => void {
  const values: Record<string, string> = {
    LAKEBOOK_ROOT: config.root,
    LAKEBOOK_LAKE_DIR: config.lakeDir,
    LAKEBOOK_SITE_DIR: config.siteDir,
    // Loaders note the dataset versions they read there, for the loader cache.
    [LOADER_READS_ENV]: readsDir,
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
