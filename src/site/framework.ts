/**
 * The narrow, typed door into Observable Framework 1.13.4's build internals. Framework ships
 * untyped `dist/*.js` with no exports map, so the modules are imported by path on first use and
 * described here only as far as Lakebook calls them. An upgrade of Framework must re-check these
 * shapes (and the cache layout vendor.ts relies on) against its dist/build.js and dist/config.js.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.ts";

/** Framework's normalized configuration; opaque apart from what we read. */
export interface FrameworkConfig {
  readonly root: string;
  readonly output: string;
  /** File extension -> command (`.ts` -> `["tsx"]`), for the LoaderResolver. */
  readonly interpreters?: unknown;
}

/** The output side of Framework's build effects (its `effects.output` and `effects.logger`). */
export interface FrameworkOutput {
  write(text: string): void;
}

export interface FrameworkLogger {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface FrameworkBuildEffects {
  prepare(): Promise<void>;
  logger: FrameworkLogger;
  output: FrameworkOutput;
}

/** A data loader as Framework's LoaderResolver finds it for a served path. */
export interface FrameworkLoader {
  /** The loader's file relative to the Framework root, e.g. `data/market.json.ts`. */
  readonly path: string;
  /** The served file relative to the root, e.g. `data/market.json` (command loaders only). */
  readonly targetPath?: string;
  /** The command line after the interpreter (command loaders only): interpreter args, file, params. */
  readonly args?: readonly string[];
  readonly params?: Readonly<Record<string, string>>;
}

export interface FrameworkLoaderResolver {
  find(path: string): FrameworkLoader | undefined;
}

interface FrameworkModules {
  LoaderResolver: new (options: { root: string; interpreters: unknown }) => FrameworkLoaderResolver;
  build(context: { config: FrameworkConfig }, effects: FrameworkBuildEffects): Promise<void>;
  normalizeConfig(spec: Record<string, unknown>, defaultRoot?: string): FrameworkConfig;
  FileBuildEffects: new (
    outputRoot: string,
    cacheDir: string,
    options: { logger: FrameworkLogger; output: FrameworkOutput },
  ) => FrameworkBuildEffects;
}

let modules: Promise<FrameworkModules> | undefined;

/** Framework's build modules, loaded once; telemetry is switched off before anything runs. */
export function loadFramework(): Promise<FrameworkModules> {
  return (modules ??= (async () => {
    const dist = "@observablehq/framework/dist";
    // Specifiers in variables: the modules are untyped, the interfaces above are the contract.
    const telemetryPath = `${dist}/telemetry.js`;
    const buildPath = `${dist}/build.js`;
    const configPath = `${dist}/config.js`;
    const telemetry = (await import(telemetryPath)) as { Telemetry: { _instance?: unknown } };
    // Framework reports usage to events.observablehq.com and hooks SIGINT/SIGTERM to flush it.
    // A Lakebook build must make no requests and must not touch the server's signal handling,
    // so the singleton is replaced by one that records nothing, before its first use.
    telemetry.Telemetry._instance = { record() {}, pending: Promise.resolve() };
    const { build, FileBuildEffects } = (await import(buildPath)) as Pick<
      FrameworkModules,
      "build" | "FileBuildEffects"
    >;
    const { normalizeConfig } = (await import(configPath)) as Pick<FrameworkModules, "normalizeConfig">;
    const loaderPath = `${dist}/loader.js`;
    const { LoaderResolver } = (await import(loaderPath)) as Pick<FrameworkModules, "LoaderResolver">;
    return { build, FileBuildEffects, normalizeConfig, LoaderResolver };
  })());
}

/**
 * The project's Framework config spec (`observablehq.config.js`, `.ts` or `.mjs`, in Framework's
 * order), as exported; `{}` when there is none. Framework resolves its paths against the working directory, so callers
 * override `root` and `output` with absolute paths.
 */
export async function readFrameworkSpec(projectRoot: string): Promise<Record<string, unknown>> {
  for (const name of ["observablehq.config.js", "observablehq.config.ts", "observablehq.config.mjs"]) {
    const path = join(projectRoot, name);
    if (!existsSync(path)) continue;
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(
        `cannot load ${path}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}. ` +
          `Fix the file (it must be an ES module: "type": "module" in package.json, or name it .mjs)`,
        { cause: error },
      );
    }
    const spec = module.default;
    return typeof spec === "object" && spec !== null ? { ...(spec as Record<string, unknown>) } : {};
  }
  return {};
}
