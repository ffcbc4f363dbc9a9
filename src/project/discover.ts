/**
 * A project on disk, found by convention: `lakebook.config.ts` (optional), `sources/<name>.ts`
 * (one source each), `models/<zone>/<dataset>.sql` (zone staging or curated) and
 * `quality/<zone>.<dataset>.yaml` (the suites gating the models). Nothing is registered in code:
 * adding a file adds the source or model.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, extname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.ts";
import { type ProjectSource, normalizeSource } from "./defineSource.ts";
import { type ProjectGraph, buildGraph } from "./graph.ts";
import { type ProjectModel, parseModel } from "./modelFile.ts";
import { type ProjectConfig, loadProjectConfig } from "./projectConfig.ts";

export interface Project {
  root: string;
  config: ProjectConfig;
  sources: ProjectSource[];
  models: ProjectModel[];
  graph: ProjectGraph;
  /** Where the quality suites are (`quality/`). */
  suitesDir: string;
}

const SOURCE_FILE = /^[^._][^/]*\.(ts|mts|js|mjs)$/;

async function list(dir: string): Promise<string[]> {
  return readdir(dir).then(
    (names) => names.sort(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    },
  );
}

export async function loadSources(root: string): Promise<ProjectSource[]> {
  const dir = join(root, "sources");
  const sources: ProjectSource[] = [];
  for (const name of await list(dir)) {
    if (!SOURCE_FILE.test(name) || name.endsWith(".d.ts")) continue;
    const file = relative(root, join(dir, name));
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(join(dir, name)).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(`${file} could not be loaded: ${(error as Error).message.split("\n")[0]}`, {
        cause: error,
      });
    }
    if (module.default === undefined)
      throw new ConfigError(`${file} has no default export: export default defineSource({ ... })`);
    sources.push(normalizeSource(module.default, basename(name, extname(name)), file));
  }
  return sources;
}

export async function loadModels(root: string): Promise<ProjectModel[]> {
  const dir = join(root, "models");
  const models: ProjectModel[] = [];
  for (const zone of await list(dir)) {
    const files = await list(join(dir, zone));
    const sqlFiles = files.filter((f) => f.endsWith(".sql"));
    if (sqlFiles.length === 0) continue;
    if (zone !== "staging" && zone !== "curated") {
      throw new ConfigError(
        `models/${zone}/${sqlFiles[0]}: models write staging or curated datasets: move it to models/staging/ or models/curated/ (raw datasets come from sources/)`,
      );
    }
    for (const name of sqlFiles) {
      const dataset = basename(name, ".sql");
      const file = `models/${zone}/${name}`;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(dataset))
        throw new ConfigError(
          `${file}: invalid dataset name '${dataset}': use 1 to 64 letters, digits, _ and -`,
        );
      const text = await readFile(join(dir, zone, name), "utf8");
      models.push(parseModel(text, file, zone, dataset));
    }
  }
  return models;
}

/** Loads and checks the whole project: a broken file fails here, before anything runs. */
export async function loadProject(root: string): Promise<Project> {
  const [config, sources, models] = await Promise.all([
    loadProjectConfig(root),
    loadSources(root),
    loadModels(root),
  ]);
  return {
    root,
    config,
    sources,
    models,
    graph: buildGraph(sources, models),
    suitesDir: join(root, "quality"),
  };
}
