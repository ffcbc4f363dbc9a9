/**
 * `buildSite`: one offline Framework build of the notebooks, published atomically.
 *
 * 1. links `notebooks/data` to the loaders, clears cached loader outputs so every loader reruns
 *    (with LAKEBOOK_ROOT / LAKEBOOK_LAKE_DIR / LAKEBOOK_SITE_DIR taken from `config`), and
 *    vendors the npm cache (vendor.ts);
 * 2. runs Framework's build into `siteDir/builds/<buildId>.partial` with downloads refused
 *    (networkGuard.ts): a page importing an unvendored library fails with what to do about it;
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
import { BuildError, isLakebookError } from "../errors.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { loadFramework, readFrameworkSpec, type FrameworkLogger, type FrameworkOutput } from "./framework.ts";
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
import { VENDORED_PACKAGES, vendorNpmCache, type VendoredPackage } from "./vendor.ts";
import { precompressBuild } from "./precompress.ts";

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
  /** Override the vendored package list (tests). */
  readonly packages?: readonly VendoredPackage[];
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
  await vendorNpmCache(config.notebooksDir, {
    logger: log,
    ...(options.packages && { packages: options.packages }),
  });
  await mkdir(partialDir, { recursive: true });
  try {
    await runFramework(
      config,
      partialDir,
      log,
      (options.packages ?? VENDORED_PACKAGES).map((p) => p.name),
    );
    const references = await findOffOriginReferences(partialDir);
    if (references.length > 0) throw offOriginError(references);
    const compressed = await precompressBuild(partialDir);
    log.info(compressed, "assets precompressed (brotli, gzip)");
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

async function runFramework(
  config: Config,
  outputDir: string,
  logger: Logger,
  vendored: readonly string[],
): Promise<void> {
  const framework = await loadFramework();
  const spec = await readFrameworkSpec(config.root);
  const frameworkConfig = framework.normalizeConfig({
    ...spec,
    root: config.notebooksDir,
    output: outputDir,
  });
  const output = new LineOutput(logger);
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
  const restoreEnvironment = setLoaderEnvironment(config);
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
  constructor(private readonly logger: Logger) {}
  /** The last complete line, for errors raised after Framework reported the failing step. */
  last = "";
  write(text: string): void {
    const lines = (this.current + plain([text])).split("\n");
    this.current = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      this.last = line;
      this.logger.debug(line);
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
