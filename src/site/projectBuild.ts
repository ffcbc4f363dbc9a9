/**
 * `buildFrameworkProject`: an offline build of any Observable Framework project into its
 * configured output folder (default `dist/`), as `observablehq build` would make it online.
 *
 * 1. runs Framework's build with the project's config (frameworkRun.ts: npm imports served from
 *    the project's node_modules, then Lakebook's; Google's Source Serif 4 replaced by the
 *    self-hosted face; `.ts` loaders run with Lakebook's tsx unless the config names an
 *    interpreter) into a folder inside Framework's cache, with the project folder as the working
 *    directory, as Framework expects;
 * 2. scans that folder for load-time references to other origins and fails on any;
 * 3. swaps it into place of the output folder.
 * A failure leaves the previous output as it was. Nothing is written into the project except
 * Framework's `.observablehq/cache` and the output folder.
 */
import { randomBytes } from "node:crypto";
import { cp, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { silentLogger, type Logger } from "../logger.ts";
import { offOriginError } from "./build.ts";
import { selfHostedStylesheets } from "./fonts.ts";
import { runFrameworkBuild } from "./frameworkRun.ts";
import { LAKEBOOK_ROOT } from "./localNpm.ts";
import { findOffOriginReferences } from "./offOrigin.ts";
import type { FrameworkProject } from "./project.ts";

export interface ProjectBuildResult {
  /** The output folder, now holding the new build. */
  readonly dir: string;
  readonly durationMs: number;
}

let queue: Promise<unknown> = Promise.resolve();

/** Builds `project` offline into its output folder; see the module doc. One at a time. */
export function buildFrameworkProject(
  project: FrameworkProject,
  effects: { readonly logger?: Logger } = {},
): Promise<ProjectBuildResult> {
  const run = queue.then(
    () => buildNow(project, effects.logger ?? silentLogger),
    () => buildNow(project, effects.logger ?? silentLogger),
  );
  queue = run.catch(() => undefined);
  return run;
}

async function buildNow(project: FrameworkProject, logger: Logger): Promise<ProjectBuildResult> {
  const started = performance.now();
  const work = join(
    project.pagesDir,
    ".observablehq",
    "cache",
    `.lakebook-build-${randomBytes(4).toString("hex")}`,
  );
  const partial = join(work, "output");
  await mkdir(partial, { recursive: true });
  const cwd = process.cwd();
  try {
    // Framework runs loaders, and resolves some paths, from the working directory.
    process.chdir(project.root);
    await runFrameworkBuild({
      spec: offlineSpec(project.spec),
      root: project.pagesDir,
      outputDir: partial,
      searchRoots: [project.root, LAKEBOOK_ROOT],
      logger,
    });
    const references = await findOffOriginReferences(partial);
    if (references.length > 0) throw offOriginError(references);
    await replaceFolder(project.outputDir, partial, join(work, "previous"));
  } finally {
    process.chdir(cwd);
    await rm(work, { recursive: true, force: true });
  }
  const durationMs = Math.round(performance.now() - started);
  logger.info({ dir: project.outputDir, durationMs }, "Framework project built offline");
  return { dir: project.outputDir, durationMs };
}

/** The project's config with what an offline build changes: fonts, and tsx for `.ts` loaders. */
export function offlineSpec(spec: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const interpreters = (spec.interpreters ?? {}) as Record<string, unknown>;
  const tsx = pathToFileURL(join(LAKEBOOK_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
  return {
    ...spec,
    globalStylesheets: selfHostedStylesheets(spec.globalStylesheets),
    interpreters: { ".ts": [process.execPath, "--import", tsx], ...interpreters },
  };
}

/** Puts `next` in place of `target` (which may not exist); the old one goes to `previous`. */
async function replaceFolder(target: string, next: string, previous: string): Promise<void> {
  await mkdir(join(target, ".."), { recursive: true });
  const moved = await rename(target, previous).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  try {
    await rename(next, target).catch(async (error: NodeJS.ErrnoException) => {
      // The output is on another file system than the cache: copy instead.
      if (error.code !== "EXDEV") throw error;
      await cp(next, target, { recursive: true });
    });
  } catch (error) {
    if (moved) await rename(previous, target).catch(() => undefined);
    throw error;
  }
}
