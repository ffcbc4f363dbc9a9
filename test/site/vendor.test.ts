import { existsSync } from "node:fs";
import { mkdir, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BuildError } from "../../src/errors.ts";
import { vendorNpmCache, VENDORED_PACKAGES } from "../../src/site/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

describe("vendorNpmCache", () => {
  it("writes one bundle per package at the installed version and is a no-op the second time", async () => {
    const root = await tempDir();
    const npm = join(root, ".observablehq", "cache", "_npm");
    // A stray newer version (left by an online build) would win Framework's version resolution.
    await mkdir(join(npm, "d3@7.99.0"), { recursive: true });
    const first = await vendorNpmCache(root);
    expect(first.packages.every((p) => p.status === "built")).toBe(true);
    expect(existsSync(join(npm, "d3@7.99.0"))).toBe(false);
    expect(await readdir(npm)).toContain("d3@7.9.2");
    const plot = await readFile(join(npm, "@observablehq/plot@0.6.17/_esm.js"), "utf-8");
    expect(plot).not.toMatch(/^\s*import\s|from\s*["']/m);
    expect(plot).toMatch(/export\s*\{/);
    expect(existsSync(join(npm, "@duckdb/duckdb-wasm@1.27.0/dist/duckdb-eh.wasm"))).toBe(true);
    expect(existsSync(join(npm, "lodash@0.0.0-lakebook-unvendored"))).toBe(true);
    expect(await readFile(join(root, ".observablehq/cache/_lakebook/fonts.css"), "utf-8")).toBe(
      '@import url("../_npm/@fontsource/source-serif-4@5.3.1/lakebook-fonts.css");\n',
    );
    const started = performance.now();
    const second = await vendorNpmCache(root);
    expect(second.packages.every((p) => p.status === "fresh")).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("names a package that is not installed and how to install it", async () => {
    const root = await tempDir();
    const error = await vendorNpmCache(root, {
      packages: [...VENDORED_PACKAGES, { name: "not-installed-pkg" }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toMatch(
      /'not-installed-pkg'.*npm install --save-exact not-installed-pkg/,
    );
  });

  it("refuses an installed version other than the one pages pin", async () => {
    const root = await tempDir();
    const error = await vendorNpmCache(root, { packages: [{ name: "d3", version: "6.0.0" }] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toMatch(
      /'d3' is installed at 7\.9\.2 but pages pin 6\.0\.0.*npm install --save-exact d3@6\.0\.0/,
    );
  });
});
