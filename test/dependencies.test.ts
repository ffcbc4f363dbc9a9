import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/cli.ts";

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => relative(REPO_ROOT, join(e.parentPath, e.name)));
}

const IMPORT = /(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

async function importsOf(file: string): Promise<string[]> {
  return [...(await readFile(join(REPO_ROOT, file), "utf8")).matchAll(IMPORT)].map((m) => m[1]!);
}

describe("dependencies point one way", () => {
  it("src/ never imports server/, except the CLI starting it through server/index.ts", async () => {
    const found: string[] = [];
    for (const file of await files("src")) {
      for (const spec of await importsOf(file)) {
        if (!spec.includes("server/")) continue;
        const allowed =
          /^src\/cli\/commands\/(serve|preview|worker)\.ts$/.test(file) && spec.endsWith("/server/index.ts");
        if (!allowed) found.push(`${file} imports ${spec}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the project\'s own files import only the public API ("lakebook"), never src/ internals', async () => {
    const found: string[] = [];
    for (const dir of ["loaders", "sources"]) {
      for (const file of await files(dir)) {
        for (const spec of await importsOf(file))
          if (spec.includes("src/")) found.push(`${file} imports ${spec}`);
      }
    }
    expect(found).toEqual([]);
  });
});
