/**
 * `buildSite`: one offline Framework build of the notebooks, published atomically.
 *
 * 1. links `notebooks/data` to the loaders, decides per cached loader output whether to reuse it
 *    or rerun its loader (loaderCache.ts: the loader's code, the dataset versions it read, its
 *    maximum age), and vendors the npm cache (vendor.ts);
 * 2. runs Framework's build into `siteDir/builds/<buildId>.partial` with downloads refused
 *    (networkGuard.ts): a page importing an unvendored library fails with what to do about it;
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
import { BuildError, isLakebookError } from "../errors.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { createLake, LOADER_READS_ENV, readRecordedReads } from "../lake/index.ts";
import {
  parseFrameworkLine,
  type BuildPhase,
  type BuildProgress,
  type ProgressListener,
} from "./buildProgress.ts";
import {
  loadFramework,
  readFrameworkSpec,
  type FrameworkConfig,
  type FrameworkLoaderResolver,
  type FrameworkLogger,
  type FrameworkOutput,
} from "./framework.ts";
import { planLoaders, recordLoaderRuns, type LoaderDecision } from "./loaderCache.ts";
import { observeLoaderRuns } from "./loaderRuns.ts";
import { linkLoaders } from "./loaders.ts";
import { writePageAccess } from "./pageAccess.ts";
import { explainBlockedRequest, guardFrameworkDownloads } from "./networkGuard.ts";
import { findOffOriginReferences, type OffOriginReference } from "./offOrigin.ts";
import {
  BUILDS_DIR,
  PARTIAL_SUFFIX,
  createBuildId,
  maybeCurrentBuild,
  pruneBuilds,
  switchCurrent,
} from "./publish.ts";
import { VENDORED_PACKAGES, vendorNpmCache, type VendoredPackage, type VendorResult } from "./vendor.ts";

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
  /** Override the vendored package list (tests). */
  readonly packages?: readonly VendoredPackage[];
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
  const framework = await loadFramework();
  const frameworkConfig = framework.normalizeConfig({
    ...(await readFrameworkSpec(config.root)),
    root: config.notebooksDir,
    output: partialDir,
  });
  const resolver = new framework.LoaderResolver({
    root: config.notebooksDir,
    interpreters: frameworkConfig.interpreters,
  });
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
  const vendored = await vendorNpmCache(config.notebooksDir, {
    logger: log,
    ...(options.packages && { packages: options.packages }),
  });
  phaseDone("vendor", describeVendored(vendored));
  await mkdir(partialDir, { recursive: true });
  const readsDir = await mkdtemp(join(tmpdir(), "lakebook-reads-"));
  const ran = new Map<string, LoaderDecision>();
  try {
    await runFramework(
      config,
      frameworkConfig,
      readsDir,
      log,
      (options.packages ?? VENDORED_PACKAGES).map((p) => p.name),
      (root) => new framework.LoaderResolver({ root, interpreters: frameworkConfig.interpreters }),
      (event) => {
        if (event.kind === "loader") {
          const planned = decisions.find((d) => d.target === event.target);
          ran.set(event.target, {
            target: event.target,
            action: "rerun",
            reason: planned?.action === "rerun" ? planned.reason : "no cached output",
          });
        }
        progress(event);
      },
    );
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
    const restricted = await writePageAccess(config.notebooksDir, partialDir);
    if (restricted.length > 0) log.info({ rules: restricted.length }, "page access rules from front matter");
    phaseDone("check");
    await writeLoaderDecisions(partialDir, finalDecisions(decisions, ran));
    await rename(partialDir, finalDir);
  } catch (error) {
    await rm(partialDir, { recursive: true, force: true });
    throw error;
  } finally {
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

function describeVendored(result: VendorResult): string {
  const built = result.packages.filter((p) => p.status === "built").length;
  return `${result.packages.length} npm packages (${built} bundled, ${result.packages.length - built} cached)`;
}

async function runFramework(
  config: Config,
  frameworkConfig: FrameworkConfig,
  readsDir: string,
  logger: Logger,
  vendored: readonly string[],
  createResolver: (root: string) => FrameworkLoaderResolver,
  onProgress: ProgressListener,
): Promise<void> {
  const framework = await loadFramework();
  const outputDir = frameworkConfig.output;
  const output = new LineOutput(logger, onProgress);
  // Framework often starts a line on `output` and ends it with `logger.log`.
  const frameworkLogger: FrameworkLogger = {
    log: (...args) => output.endLine(plain(args)),
    warn: (...args) => logger.warn(plain(args)),
    error: (...args) => logger.error(plain(args)),
  };
  const effects = new framework.FileBuildEffects(
    outputDir,
    join(config.notebooksDir, ".observablehq", "cache"),
    {
      logger: frameworkLogger,
      output,
    },
  );
  // The folder is new and empty; Framework's own prepare() only warns outside the cwd.
  effects.prepare = async () => {};
  const guard = guardFrameworkDownloads(() => output.step);
  const restoreEnvironment = setLoaderEnvironment(config, readsDir);
  const stopObserving = observeLoaderRuns(createResolver, (run) => onProgress({ kind: "loader", ...run }));
  try {
    await framework.build({ config: frameworkConfig }, effects);
  } catch (error) {
    const [blocked] = guard.blocked;
    if (blocked) throw new BuildError(explainBlockedRequest(blocked, vendored), { cause: error });
    if (isLakebookError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/no pages found/i.test(message)) {
      throw new BuildError(
        `no pages to build in ${config.notebooksDir}: add a Markdown page such as index.md`,
        {
          cause: error,
        },
      );
    }
    const loader = /load (\S+) /.exec(output.step)?.[1];
    if (/^loader (exited|skipped)/.test(message) && loader) {
      throw new BuildError(
        `the data loader for ${loader} failed (${message}): see its error output above, fix the loader or ` +
          `its input, and build again; the published site is unchanged`,
        { cause: error },
      );
    }
    throw new BuildError(`Framework build failed ${describeStep(output.step)}: ${plain([message])}`, {
      cause: error,
    });
  } finally {
    stopObserving();
    restoreEnvironment();
    guard.release();
  }
  // Should Framework ever log a failed download and go on, the build is still broken.
  const [blocked] = guard.blocked;
  if (blocked) throw new BuildError(explainBlockedRequest(blocked, vendored));
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

function offOriginError(references: readonly OffOriginReference[]): BuildError {
  const shown = references.slice(0, 5).map((r) => `${r.file}: ${r.via} ${r.url}`);
  const more = references.length > shown.length ? ` (and ${references.length - shown.length} more)` : "";
  return new BuildError(
    `the built site would load files from other origins, which fails offline and leaks readers' visits: ` +
      `${shown.join("; ")}${more}. Serve them from the site instead: for an npm library, ` +
      `\`npm install --save-exact <name>\` and add it to VENDORED_PACKAGES in src/site/vendor.ts, then import ` +
      `\`npm:<name>\`; for a stylesheet or font, import it from notebooks/style.css; for other files, ` +
      `put them under notebooks/ (or emit them from a loader) and reference them by relative path`,
  );
}

function describeStep(step: string): string {
  const trimmed = step.trim();
  return trimmed ? `during "${trimmed}"` : "";
}

/** Framework's progress output, logged a line at a time; `current` is the unfinished line. */
class LineOutput implements FrameworkOutput {
  current = "";
  constructor(
    private readonly logger: Logger,
    private readonly onProgress: ProgressListener,
  ) {}
  /** The last complete line, for errors raised after Framework reported the failing step. */
  last = "";
  write(text: string): void {
    const lines = (this.current + plain([text])).split("\n");
    this.current = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      this.last = line;
      this.logger.debug(line);
      const event = parseFrameworkLine(line);
      if (event) this.onProgress(event);
    }
  }
  /** The running step, or the one that just ended. */
  get step(): string {
    return this.current.trim() ? this.current : this.last;
  }
  endLine(text: string): void {
    this.write(`${text}\n`);
  }
}

const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*m`, "g");

function plain(args: readonly unknown[]): string {
  return args
    .map((a) => (a instanceof Error ? a.message : String(a)))
    .join(" ")
    .replace(ANSI, "");
}
