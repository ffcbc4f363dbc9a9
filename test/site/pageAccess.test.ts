/**
 * Page access rules from front matter, on real files: notebooks as an analyst writes them and
 * pages as Framework builds them (attachments referenced as `./_file/...`, `../_import/...`).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { BuildError } from "../../src/errors.ts";
import { PAGE_ACCESS_FILE, readPageAccess, writePageAccess } from "../../src/site/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

async function project(files: Record<string, string>): Promise<{ notebooks: string; build: string }> {
  const root = await tempDir();
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return { notebooks: join(root, "notebooks"), build: join(root, "build") };
}

const built = (...attachments: string[]) =>
  `<html><head>${attachments.map((a) => `<link rel="modulepreload" href="${a}">`).join("")}</head><body></body></html>`;

describe("page access from front matter", () => {
  it("restricts pages and the attachments only restricted pages use, with the union of their groups", async () => {
    const { notebooks, build } = await project({
      "notebooks/index.md": "# Home\n",
      "build/index.html": built("./_file/data/public.11111111.csv"),
      "notebooks/desk/index.md": "---\naccess: rates\n---\n# Desk\n",
      "build/desk/index.html": built("../_file/data/rates.22222222.csv", "../_file/data/shared.33333333.csv"),
      "notebooks/desk/fx.md": "---\ntitle: FX\naccess: [fx, treasury]\n---\n# FX\n",
      "build/desk/fx.html": built(
        "../_file/data/shared.33333333.csv",
        "../_import/components/fx.44444444.js",
        "../_file/data/public.11111111.csv",
      ),
      "notebooks/_drafts/secret.md": "---\naccess: [nobody]\n---\n",
      "notebooks/.hidden.md": "---\naccess: [nobody]\n---\n",
    });
    const rules = await writePageAccess(notebooks, build);
    expect(rules).toEqual([
      { path: "/_file/data/rates.22222222.csv", groups: ["rates"] },
      { path: "/_file/data/shared.33333333.csv", groups: ["fx", "rates", "treasury"] },
      { path: "/_import/components/fx.44444444.js", groups: ["fx", "treasury"] },
      { path: "/desk/", groups: ["rates"] },
      { path: "/desk/fx", groups: ["fx", "treasury"] },
    ]);
    expect(await readPageAccess(build)).toEqual(rules);
    expect(JSON.parse(await readFile(join(build, PAGE_ACCESS_FILE), "utf8"))).toEqual(rules);
  });

  it("writes an empty rule list when no page restricts access, and reads none from an older build", async () => {
    const { notebooks, build } = await project({
      "notebooks/index.md": "---\ntitle: Home\n---\n# Home\n",
      "build/index.html": built("./_file/data/x.11111111.csv"),
    });
    expect(await writePageAccess(notebooks, build)).toEqual([]);
    expect(await readPageAccess(join(build, "missing"))).toEqual([]);
  });

  it("refuses front matter it cannot read with the page's name and the form to use", async () => {
    for (const [front, message] of [
      ["access: [fin ance]", /finance\.md: front matter 'access' must name one or more groups/],
      ["access: []", /finance\.md: front matter 'access' must name/],
      ["access: {a: 1}", /finance\.md: front matter 'access' must name/],
      ["access: [finance", /finance\.md: its front matter is not valid YAML/],
    ] as const) {
      const { notebooks, build } = await project({
        "notebooks/finance.md": `---\n${front}\n---\n# Finance\n`,
        "build/finance.html": built(),
      });
      const error = await writePageAccess(notebooks, build).catch((e: unknown) => e);
      expect(error, front).toBeInstanceOf(BuildError);
      expect((error as Error).message, front).toMatch(message);
    }
  });

  it("refuses a damaged rules file instead of serving the build without its rules", async () => {
    const { build } = await project({ [`build/${PAGE_ACCESS_FILE}`]: '{"path": "/x"}' });
    await expect(readPageAccess(build)).rejects.toThrow(/damaged: run `lakebook build` again/);
  });
});
