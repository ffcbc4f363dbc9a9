import { existsSync } from "node:fs";
import { readFile, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError } from "../../src/errors.ts";
import { buildSite, findOffOriginReferences, listBuilds, readPageAccess } from "../../src/site/index.ts";
import { buildOffline, networkIsolationProblem } from "../helpers/offlineBuild.ts";
import { createSiteFixture, type SiteFixture } from "./fixture.ts";

describe("buildSite", () => {
  let fixture: SiteFixture;
  let first: string;

  beforeAll(async () => {
    fixture = await createSiteFixture();
    const problem = await networkIsolationProblem();
    if (problem) {
      throw new Error(
        `cannot create a network namespace (${problem}): run the tests as root with util-linux (unshare) and iproute2 (ip) installed`,
      );
    }
    const offline = await buildOffline(fixture.root);
    if (!offline.ok) throw new Error(`offline build failed: ${JSON.stringify(offline.error)}`);
    first = offline.result!.buildId;
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  it("builds with no network at all and publishes the build as current", async () => {
    expect(await readlink(join(fixture.config.siteDir, "current"))).toBe(`builds/${first}`);
    const current = join(fixture.config.siteDir, "current");
    expect(existsSync(join(current, "index.html"))).toBe(true);
    expect(existsSync(join(current, "explore.html"))).toBe(true);
  });

  it("publishes the access rules of pages' front matter with the build, covering their attachments", async () => {
    const rules = await readPageAccess(join(fixture.config.siteDir, "current"));
    expect(rules).toEqual([
      { path: expect.stringMatching(/^\/_file\/data\/margins\.[0-9a-f]{8}\.csv$/), groups: ["finance"] },
      { path: "/finance/margins", groups: ["finance"] },
    ]);
    const attachment = rules[0]!.path;
    expect(existsSync(join(fixture.config.siteDir, "current", attachment))).toBe(true);
  });

  it("serves every library and the DuckDB files from the site itself", async () => {
    const npm = join(fixture.config.siteDir, "current", "_npm");
    const files = (await readdir(npm, { recursive: true })).map(String);
    for (const expected of [
      "@observablehq/plot@0.6.17",
      "d3@7.9.2",
      "htl@0.3.1",
      "d3-dsv@3.0.2",
      "@duckdb/duckdb-wasm@1.27.0/dist/duckdb-eh.wasm",
      "@duckdb/duckdb-wasm@1.27.0/dist/duckdb-mvp.wasm",
    ]) {
      expect(
        files.some((f) => f.startsWith(expected)),
        expected,
      ).toBe(true);
    }
    expect(files.some((f) => /duckdb-browser-eh\.worker\.[0-9a-f]{8}\.js$/.test(f))).toBe(true);
    expect(files.some((f) => /duckdb-browser-mvp\.worker\.[0-9a-f]{8}\.js$/.test(f))).toBe(true);
  });

  it("leaves no load-time reference to another origin, fonts included", async () => {
    const current = join(fixture.config.siteDir, "current");
    expect(await findOffOriginReferences(current)).toEqual([]);
    const index = await readFile(join(current, "index.html"), "utf-8");
    expect(index).not.toMatch(/fonts\.googleapis\.com|fonts\.gstatic\.com|cdn\.jsdelivr\.net/);
    expect(index).toContain('href="https://example.com/docs"');
    const styles = await readdir(join(current, "_import"));
    const style = await readFile(
      join(
        current,
        "_import",
        styles.find((f) => f.startsWith("style."))!,
      ),
      "utf-8",
    );
    expect(style).toMatch(/font-family:\s*"Source Serif 4"/);
    expect(style).toContain("data:font/woff2;base64,");
  });

  it("runs a TypeScript loader reached through the notebooks/data symlink", async () => {
    expect(await readlink(join(fixture.config.notebooksDir, "data"))).toBe("../loaders");
    const fileDir = join(fixture.config.siteDir, "current", "_file", "data");
    const csv = (await readdir(fileDir)).find((f) => f.startsWith("prices."));
    expect(await readFile(join(fileDir, csv!), "utf-8")).toContain("2024-01-02,2.5");
  });

  it("reruns loaders on every build, with the build's config in their environment", async () => {
    const noteFile = async (dir: string) => {
      const files = await readdir(join(dir, "_file", "data"));
      return readFile(
        join(
          dir,
          "_file",
          "data",
          files.find((f) => f.startsWith("note."))!,
        ),
        "utf-8",
      );
    };
    expect(await noteFile(join(fixture.config.siteDir, "current"))).toBe("first note");
    await fixture.write("data/lake/note.txt", "second note");
    const build = await buildSite(fixture.config);
    expect(await noteFile(build.dir)).toBe("second note");
  });

  it("keeps the previous build live when a loader fails", async () => {
    const before = await readlink(join(fixture.config.siteDir, "current"));
    await fixture.write("data/lake/note.txt", "fail");
    try {
      const error = await buildSite(fixture.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildError);
      expect((error as BuildError).message).toMatch(
        /data loader for \/data\/note\.txt failed \(loader exited with code 1\)/,
      );
      expect(await readlink(join(fixture.config.siteDir, "current"))).toBe(before);
    } finally {
      await fixture.write("data/lake/note.txt", "first note");
    }
  });

  it("fails with the page, the import and the fix when a package is not installed, keeping current", async () => {
    const before = await readlink(join(fixture.config.siteDir, "current"));
    await fixture.write(
      "notebooks/party.md",
      '# Party\n\n```js\nimport confetti from "npm:canvas-confetti";\n```\n',
    );
    try {
      const error = await buildSite(fixture.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildError);
      const message = (error as BuildError).message;
      expect(message).toContain("page /party");
      expect(message).toContain("npm:canvas-confetti");
      expect(message).toContain("imports npm:canvas-confetti, which is not installed");
      expect(message).toContain("`npm install --save-exact canvas-confetti`");
      expect(await readlink(join(fixture.config.siteDir, "current"))).toBe(before);
      expect(
        (await readdir(join(fixture.config.siteDir, "builds"))).filter((f) => f.endsWith(".partial")),
      ).toEqual([]);
    } finally {
      await fixture.remove("notebooks/party.md");
    }
  });

  it("refuses a DuckDB-WASM that loads Parquet from the network, explaining the offline choice", async () => {
    // Unversioned (Framework's 1.29.0 pin) gets the installed 1.27.0: test/site/localNpm.test.ts.
    await fixture.write(
      "notebooks/sql.md",
      '# SQL\n\n```js\nimport * as duckdb from "npm:@duckdb/duckdb-wasm@1.32.0";\ndisplay(duckdb);\n```\n',
    );
    try {
      const error = await buildSite(fixture.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildError);
      expect((error as BuildError).message).toMatch(
        /page \/sql imports npm:@duckdb\/duckdb-wasm@1\.32\.0, but node_modules holds 1\.27\.0.*extensions\.duckdb\.org.*without a version/,
      );
    } finally {
      await fixture.remove("notebooks/sql.md");
    }
  });

  it("refuses a page that loads a stylesheet from another origin, naming file and URL", async () => {
    const before = await readlink(join(fixture.config.siteDir, "current"));
    await fixture.write(
      "notebooks/styled.md",
      '# Styled\n\n<link rel="stylesheet" href="https://cdn.example.com/theme.css">\n',
    );
    try {
      const error = await buildSite(fixture.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildError);
      expect((error as BuildError).message).toMatch(
        /styled\.html: <link rel="stylesheet"> https:\/\/cdn\.example\.com\/theme\.css.*import it from a local stylesheet/,
      );
      expect(await readlink(join(fixture.config.siteDir, "current"))).toBe(before);
    } finally {
      await fixture.remove("notebooks/styled.md");
    }
  });

  it("switches current to each new build and keeps only the newest N", async () => {
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await buildSite(fixture.config, {}, { keep: 2 }));
    const last = results[2]!;
    expect(last.previous).toBe(results[1]!.buildId);
    expect(await readlink(join(fixture.config.siteDir, "current"))).toBe(`builds/${last.buildId}`);
    expect(await listBuilds(fixture.config.siteDir)).toEqual([results[1]!.buildId, last.buildId]);
    expect(results.map((r) => r.buildId)).toEqual([...results.map((r) => r.buildId)].sort());
    expect(results[0]!.buildId > first).toBe(true);
  });
});
