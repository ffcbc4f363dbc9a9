/**
 * Once per `vitest run`: a folder where the first e2e test file to need it builds this
 * repository's notebooks offline (test/e2e/setup.ts); later files copy that lake and site instead
 * of rebuilding the same thing (each build is tens of seconds). Removed when the run ends.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    e2eCacheDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "lakebook-e2e-shared-"));
  project.provide("e2eCacheDir", dir);
  return () => rm(dir, { recursive: true, force: true });
}
