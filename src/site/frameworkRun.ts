/**
 * One offline run of Framework's build, shared by Lakebook's notebooks (build.ts) and any
 * Framework project (projectBuild.ts): npm requests answered from node_modules (localNpm.ts),
 * other downloads refused (networkGuard.ts), Framework's progress logged a line at a time, and
 * its failures turned into BuildErrors that say what to do.
 */
import { BuildError, isLakebookError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { parseFrameworkLine, type ProgressListener } from "./buildProgress.ts";
import { loadFramework, type FrameworkLogger, type FrameworkOutput } from "./framework.ts";
import { relocateFontStylesheet, writeFontStylesheet } from "./fonts.ts";
import { DUCKDB_WASM_PACKAGE, offlineDuckDBSpec } from "./duckdbWasm.ts";
import { createLocalNpm, type LocalNpm } from "./localNpm.ts";
import { explainBlockedRequest, guardFrameworkDownloads } from "./networkGuard.ts";
import { prepareNpmCache } from "./vendor.ts";
import { normalizeDynamicPaths } from "./entityPaths.ts";
import { join } from "node:path";

export interface FrameworkRun {
  /** The config spec (the project's, with absolute `root`); `output` is set from `outputDir`. */
  readonly spec: Record<string, unknown>;
  /** The Framework root (pages); its `.observablehq/cache` is the cache. */
  readonly root: string;
  readonly outputDir: string;
  /** Where node_modules are looked up, in order (the project's folder, then Lakebook's). */
  readonly searchRoots: readonly string[];
  readonly logger: Logger;
  /** Receives the page count Framework reports (buildProgress.ts). */
  readonly onProgress?: ProgressListener;
}

/** Prepares the cache of `root` (stale npm folders, fonts) for a build or a preview. */
export async function prepareCache(root: string, npm: LocalNpm, logger: Logger): Promise<void> {
  const removed = await prepareNpmCache(root, npm);
  if (removed.length > 0) logger.info({ removed }, "stale npm cache folders removed");
  await writeFontStylesheet(root);
}

/** The spec with the DuckDB extensions an offline build can do without (duckdbWasm.ts). */
export async function withOfflineDuckDB(
  spec: Readonly<Record<string, unknown>>,
  npm: LocalNpm,
): Promise<Record<string, unknown>> {
  const installed = await npm.installedVersion(DUCKDB_WASM_PACKAGE);
  return offlineDuckDBSpec(spec, installed);
}

/** Runs Framework's build into `outputDir` (which must exist and be empty). */
export async function runFrameworkBuild(run: FrameworkRun): Promise<void> {
  const { logger } = run;
  const framework = await loadFramework();
  // One resolver for the run: it remembers where each package is installed.
  const npm = createLocalNpm(run.searchRoots);
  await prepareCache(run.root, npm, logger);
  const spec = await withOfflineDuckDB(run.spec, npm);
  // A plain or async function returning an array works as well as Framework's async generator.
  const frameworkConfig = framework.normalizeConfig({
    ...spec,
    dynamicPaths: normalizeDynamicPaths(spec.dynamicPaths),
    root: run.root,
    output: run.outputDir,
  });
  const output = new LineOutput(logger, run.onProgress);
  // Framework often starts a line on `output` and ends it with `logger.log`.
  const frameworkLogger: FrameworkLogger = {
    log: (...args) => output.endLine(plain(args)),
    warn: (...args) => logger.warn(plain(args)),
    error: (...args) => logger.error(plain(args)),
  };
  const effects = new framework.FileBuildEffects(run.outputDir, join(run.root, ".observablehq", "cache"), {
    logger: frameworkLogger,
    output,
  });
  // The folder is new and empty; Framework's own prepare() only warns outside the cwd.
  effects.prepare = async () => {};
  const guard = guardFrameworkDownloads(() => output.step, npm);
  try {
    await framework.build({ config: frameworkConfig }, effects);
  } catch (error) {
    const [blocked] = guard.blocked;
    if (blocked) throw new BuildError(explainBlockedRequest(blocked), { cause: error });
    if (isLakebookError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/no pages found/i.test(message)) {
      throw new BuildError(`no pages to build in ${run.root}: add a Markdown page such as index.md`, {
        cause: error,
      });
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
    guard.release();
  }
  // Should Framework ever log a failed download and go on, the build is still broken.
  const [blocked] = guard.blocked;
  if (blocked) throw new BuildError(explainBlockedRequest(blocked));
  await relocateFontStylesheet(run.outputDir);
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
    private readonly onProgress?: ProgressListener,
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
      const event = this.onProgress && parseFrameworkLine(line);
      if (event) this.onProgress!(event);
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
