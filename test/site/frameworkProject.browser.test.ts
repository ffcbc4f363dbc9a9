/**
 * Issue 13's acceptance test: Framework projects written here — one foreign project using every
 * built-in library, attachment format and theme, a dynamicPaths page, a TypeScript and a shell
 * loader; and a Lakebook project with the README's `loaders/sales.csv.ts` recipe — are built with
 * `lakebook build --root` inside an empty network namespace, served with `lakebook serve
 * --root`, and opened in one Chromium: every page renders what it computes, with no console
 * error (a Content-Security-Policy refusal is one) and no request to another origin.
 */
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../src/sources/index.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import { runLakebookOffline, startLakebookServe, type ServeChild } from "../helpers/lakebookChild.ts";
import { networkIsolationProblem } from "../helpers/offlineBuild.ts";
import { createFrameworkProject, EXPECTED, THEMES, type FrameworkFixture } from "./frameworkProject.ts";

/** README "Adding a notebook and a loader", verbatim in spirit: a loader and the page reading it. */
const SALES_LOADER = `process.stdout.write("region,amount\\nnorth,10\\nsouth,32\\n");\n`;
const SALES_PAGE = `# Sales

\`\`\`js
const sales = FileAttachment("data/sales.csv").csv({typed: true});
\`\`\`

\`\`\`js
display(Plot.barY(sales, {x: "region", y: "amount"}).plot());
\`\`\`

<p id="total">\${d3.sum(sales, (d) => d.amount)}</p>
`;

/** A Lakebook project with this repository's Framework config and only the README's recipe. */
async function createRecipeProject(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "lakebook-recipe-"));
  const write = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  // As in this repository: the config is an ES module.
  await write("package.json", JSON.stringify({ private: true, type: "module" }));
  await cp(join(REPO_ROOT, "observablehq.config.ts"), join(root, "observablehq.config.ts"));
  await cp(join(REPO_ROOT, "notebooks/style.css"), join(root, "notebooks/style.css"));
  await write("loaders/sales.csv.ts", SALES_LOADER);
  await write("notebooks/sales.md", SALES_PAGE);
  return root;
}

/** Builds take minutes on a busy 2-core machine (Framework parses every bundle it copies). */
const BUILD_TIMEOUT_MS = 1_500_000;

const isolation = await networkIsolationProblem();

describe.skipIf(isolation !== undefined)("Framework projects built offline and served by lakebook", () => {
  let framework: FrameworkFixture;
  let recipe: string;
  let frameworkServer: ServeChild;
  let lakebookServer: ServeChild;
  let browser: Browser;

  beforeAll(async () => {
    [framework, recipe] = await Promise.all([createFrameworkProject(), createRecipeProject()]);
    const builds = await Promise.all([
      runLakebookOffline(["build", "--root", framework.root], BUILD_TIMEOUT_MS),
      runLakebookOffline(["build", "--root", recipe], BUILD_TIMEOUT_MS),
    ]);
    for (const build of builds) expect(build.code, build.stderr.slice(-3000) || "timed out").toBe(0);
    [frameworkServer, lakebookServer, browser] = await Promise.all([
      startLakebookServe(["--root", framework.root]),
      startLakebookServe(["--root", recipe]),
      // Any host but loopback fails to resolve: an off-origin request cannot succeed.
      launchChromium({ extraArgs: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"] }),
    ]);
  }, BUILD_TIMEOUT_MS + 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([frameworkServer?.stop(), lakebookServer?.stop()]);
    await Promise.all(
      [framework?.root, recipe].map((dir) => dir && rm(dir, { recursive: true, force: true })),
    );
  });

  it("writes nothing into the Framework project but its output and Framework's cache", async () => {
    expect((await readdir(framework.root)).sort()).toEqual([
      "dist",
      "node_modules",
      "observablehq.config.js",
      "package.json",
      "src",
    ]);
    expect((await readdir(join(framework.root, "src"))).sort()).toEqual([
      ".observablehq",
      "data",
      "formats.md",
      "index.md",
      "items",
      "libraries.md",
      "sql.md",
      "themes",
    ]);
    expect(await readdir(join(framework.root, "src", ".observablehq"))).toEqual(["cache"]);
    expect((await readdir(join(framework.root, "dist", "items"))).sort()).toEqual(["alpha.html"]);
  });

  for (const [path, expected] of Object.entries(EXPECTED)) {
    it(`renders ${path} with no console error and no off-origin request`, async () => {
      await checkPage(frameworkServer.origin, path, expected, async (page) => {
        if (!path.startsWith("/themes/")) return;
        // Every theme shows body text in the self-hosted Source Serif 4.
        const loaded = await page.evaluate(async () => {
          await document.fonts.ready;
          return [...document.fonts].some(
            (f) => f.family.replaceAll('"', "") === "Source Serif 4" && f.status === "loaded",
          );
        });
        expect(loaded).toBe(true);
      });
    });
  }

  it("covers every built-in theme of the installed Framework", async () => {
    const themeModule = "@observablehq/framework/dist/theme.js";
    const { THEMES: builtIn } = (await import(themeModule)) as { THEMES: { name: string }[] };
    expect(builtIn.map((t) => t.name).filter((name) => !THEMES.includes(name))).toEqual([]);
  });

  it("serves the README's loaders/sales.csv.ts recipe under lakebook serve", async () => {
    await checkPage(lakebookServer.origin, "/sales", { total: "42" });
  });

  async function checkPage(
    origin: string,
    path: string,
    expected: Record<string, string>,
    extra?: (page: Page) => Promise<void>,
  ): Promise<void> {
    const context = await browser.newContext();
    const requested: string[] = [];
    context.on("request", (request) => requested.push(request.url()));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    try {
      await page.goto(`${origin}${path}`);
      for (const [id, text] of Object.entries(expected)) {
        const element = page.locator(`#${id}`);
        await element
          .filter({ hasText: text })
          .waitFor({ timeout: 60_000 })
          .catch(() => undefined);
        expect({ id, text: (await element.textContent())?.trim(), errors }).toEqual({ id, text, errors: [] });
      }
      await extra?.(page);
      await page.waitForLoadState("networkidle");
      expect(errors).toEqual([]);
      const offOrigin = requested.filter(
        (url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url),
      );
      expect(offOrigin).toEqual([]);
    } finally {
      await context.close();
    }
  }
});
