/**
 * `lakebook build --root` on a Framework project, failure paths: each fails with a message
 * naming what to fix, leaves no output behind and writes nothing into the project except
 * Framework's cache. (The successful build of every library and format is in
 * frameworkProject.browser.test.ts.)
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLakebook } from "../helpers/cli.ts";
import { runLakebookOffline } from "../helpers/lakebookChild.ts";
import { networkIsolationProblem } from "../helpers/offlineBuild.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const isolation = await networkIsolationProblem();

async function project(files: Record<string, string>): Promise<string> {
  const root = await tempDir();
  for (const [path, content] of Object.entries({ "package.json": '{"type": "module"}', ...files })) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

describe("lakebook build --root on a Framework project", () => {
  it("refuses a root that is not a folder", async () => {
    const run = await runLakebook(["build", "--root", "/nonexistent/project"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("project root /nonexistent/project is not a folder");
  });

  it("says where the pages are expected when the project has none", async () => {
    const root = await project({ "observablehq.config.js": 'export default {root: "pages"};\n' });
    const run = await runLakebook(["build", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `no Observable Framework pages in ${root}: ${join(root, "pages")} does not exist`,
    );
    expect(existsSync(join(root, "dist"))).toBe(false);
  });

  it.skipIf(isolation !== undefined)(
    "names the page, the import and the install command for a package that is not installed",
    async () => {
      const root = await project({
        "src/index.md": '# Party\n\n```js\nimport confetti from "npm:canvas-confetti";\n```\n',
      });
      const run = await runLakebookOffline(["build", "--root", root]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        "page /index imports npm:canvas-confetti, which is not installed in the project's node_modules " +
          "(nor Lakebook's): run `npm install --save-exact canvas-confetti` in the project folder",
      );
      expect((await readdir(root)).sort()).toEqual(["package.json", "src"]);
      expect((await readdir(join(root, "src"))).sort()).toEqual([".observablehq", "index.md"]);
    },
    300_000,
  );

  it.skipIf(isolation !== undefined)(
    "names the data loader that tried the network, keeping the previous output",
    async () => {
      const root = await project({
        "src/index.md": '# Remote\n\n```js\nconst rows = FileAttachment("data/remote.csv").csv();\n```\n',
        "src/data/remote.csv.js":
          'const r = await fetch("http://example.com/data.csv");\nprocess.stdout.write(await r.text());\n',
        "dist/index.html": "previous build",
      });
      const run = await runLakebookOffline(["build", "--root", root]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/the data loader for \/?data\/remote\.csv failed/);
      expect(await readdir(join(root, "dist"))).toEqual(["index.html"]);
    },
    300_000,
  );
});
