/**
 * The project root: the one folder a `lakebook build|preview|serve` works on (`--root`, else
 * LAKEBOOK_ROOT, else the working directory), resolved once by the CLI and passed down.
 *
 * Two kinds of project live there:
 * - a Lakebook project (`lakebook.config.ts`, or the `notebooks/` + `loaders/` layout of this
 *   repository): its build runs loaders against the lake and publishes versioned builds under
 *   `data/site`, served with access control and the lake;
 * - any other folder is an Observable Framework project: its `observablehq.config.{js,ts,mjs}`
 *   (root, output, theme, pages, dynamicPaths, interpreters, ...) is read as Framework reads it,
 *   and Lakebook only makes its build offline. Nothing is written into it except Framework's own
 *   `.observablehq/cache` and the output folder; the lake, the record store and publishing stay
 *   out (opt in by making it a Lakebook project).
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { readFrameworkSpec } from "./framework.ts";

export type ProjectKind = "lakebook" | "framework";

/** A project root and what it holds. */
export interface Project {
  readonly root: string;
  readonly kind: ProjectKind;
}

/** A Framework project's settings as Lakebook needs them, with absolute paths. */
export interface FrameworkProject extends Project {
  readonly kind: "framework";
  /** The config as the project exports it (`{}` without a config file). */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Framework's root: the folder of the pages (config `root`, default `src`, or `docs`). */
  readonly pagesDir: string;
  /** Framework's output folder (config `output`, default `dist`). */
  readonly outputDir: string;
}

/** Which kind of project `root` holds; fails when the folder does not exist. */
export function detectProject(root: string): Project {
  const dir = resolve(root);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(`project root ${dir} is not a folder: pass an existing folder to --root`);
  }
  const isDir = (name: string) => existsSync(join(dir, name)) && statSync(join(dir, name)).isDirectory();
  const lakebook = existsSync(join(dir, "lakebook.config.ts")) || (isDir("notebooks") && isDir("loaders"));
  return { root: dir, kind: lakebook ? "lakebook" : "framework" };
}

/** Reads a Framework project's config and locates its pages and output. */
export async function readFrameworkProject(root: string): Promise<FrameworkProject> {
  const dir = resolve(root);
  const spec = await readFrameworkSpec(dir);
  // Framework's own default when the config names no root: docs/ if present, else src/.
  const pagesRoot =
    typeof spec.root === "string" ? spec.root : existsSync(join(dir, "docs")) ? "docs" : "src";
  const pagesDir = resolve(dir, pagesRoot);
  if (!existsSync(pagesDir)) {
    throw new ConfigError(
      `no Observable Framework pages in ${dir}: ${pagesDir} does not exist. Run lakebook in the project's ` +
        `folder (or pass it with --root), and set \`root\` in observablehq.config.js if the pages live elsewhere`,
    );
  }
  const outputDir = resolve(dir, typeof spec.output === "string" ? spec.output : "dist");
  return { root: dir, kind: "framework", spec, pagesDir, outputDir };
}
