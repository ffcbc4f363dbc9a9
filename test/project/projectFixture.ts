/** Temporary projects on disk for the project tests: files written as an analyst would. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Config, normalizeConfig } from "../../src/config.ts";
import { type Lake, createLake } from "../../src/lake/index.ts";

/** Writes `files` (path relative to the root -> content) under `root`. */
export async function writeProject(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

export function projectContext(root: string): { config: Config; lake: Lake } {
  const config = normalizeConfig({ root, lakeDir: join(root, "data/lake") });
  return { config, lake: createLake(config) };
}

/** A CSV file source; sources in tests export plain objects (defineSource only adds types). */
export function csvSource(path: string, columns: string): string {
  return `export default ${JSON.stringify({ kind: "file", path, columns })};\n`;
}
