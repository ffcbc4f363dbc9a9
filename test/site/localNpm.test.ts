import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { offlineDuckDBSpec } from "../../src/site/duckdbWasm.ts";
import { createLocalNpm, LAKEBOOK_ROOT, MissingPackageError, prepareNpmCache } from "../../src/site/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const npm = createLocalNpm();

async function fetchLocal(url: string): Promise<Response> {
  const response = await npm.respond(new URL(url));
  if (!response) throw new Error(`not answered: ${url}`);
  return response;
}

/** Imports a bundle the way the browser does: as an ES module of its own. */
async function importBundle(code: string): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as Record<
    string,
    unknown
  >;
}

describe("the local npm answers Framework's downloads from node_modules", () => {
  it("answers a version question with the installed version", async () => {
    expect(await (await fetchLocal("https://registry.npmjs.org/d3/latest")).json()).toEqual({
      name: "d3",
      version: "7.9.2",
    });
    const ranged = (await (await fetchLocal("https://registry.npmjs.org/d3")).json()) as { versions: object };
    expect(Object.keys(ranged.versions)).toEqual(["7.9.2"]);
    expect(await npm.respond(new URL("https://example.com/d3"))).toBeUndefined();
  });

  it("bundles d3-dsv self-contained, parsing CSV into the same rows without eval", async () => {
    const response = await fetchLocal("https://cdn.jsdelivr.net/npm/d3-dsv@3.0.2/+esm");
    expect(response.headers.get("content-type")).toMatch(/^application\/javascript/);
    const code = await response.text();
    expect(code).not.toMatch(/new Function|\beval\(/);
    expect(code).not.toMatch(/^\s*import\s|\bfrom\s*["']/m);
    const dsv = (await importBundle(code)) as {
      csvParse(text: string, row?: unknown): Record<string, unknown>[] & { columns: string[] };
      autoType: unknown;
    };
    const rows = dsv.csvParse("a,b,a\n1,,3\n4,x\n");
    // Duplicate columns: the last wins; missing cells are "", as with d3-dsv's compiled converter.
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { a: "3", b: "" },
      { a: "", b: "x" },
    ]);
    expect(rows.columns).toEqual(["a", "b", "a"]);
    expect(dsv.csvParse("n,d\n1,2024-01-02\n", dsv.autoType)[0]).toEqual({ n: 1, d: new Date("2024-01-02") });
  });

  it("patches d3's own copy of the converter too", async () => {
    const code = await (await fetchLocal("https://cdn.jsdelivr.net/npm/d3@7.9.2/+esm")).text();
    expect(code).not.toMatch(/new Function\("d"/);
  });

  it("serves package files byte for byte", async () => {
    const response = await fetchLocal("https://cdn.jsdelivr.net/npm/d3@7.9.2/package.json");
    expect(((await response.json()) as { name: string }).name).toBe("d3");
  });

  it("names the import and the install command for a package that is not installed", async () => {
    const version = (
      (await (await fetchLocal("https://registry.npmjs.org/not-installed-pkg/latest")).json()) as {
        version: string;
      }
    ).version;
    const error = await npm
      .respond(new URL(`https://cdn.jsdelivr.net/npm/not-installed-pkg@${version}/+esm`))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect((error as Error).message).toBe(
      "imports npm:not-installed-pkg, which is not installed in the project's node_modules (nor Lakebook's): " +
        "run `npm install --save-exact not-installed-pkg` in the project folder and build again",
    );
  });

  it("refuses a version other than the installed one, with the command that installs it", async () => {
    const error = await npm
      .respond(new URL("https://cdn.jsdelivr.net/npm/d3@6.0.0/dist/d3.min.js"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect((error as Error).message).toMatch(
      /npm:d3\/dist\/d3\.min\.js at 6\.0\.0.*holds 7\.9\.2.*npm install --save-exact d3@6\.0\.0/,
    );
  });
});

describe("Framework's DuckDB-WASM pin offline", () => {
  it("answers the pinned 1.29.0 with the installed 1.27.0's files", async () => {
    const ranged = (await (await fetchLocal("https://registry.npmjs.org/@duckdb/duckdb-wasm")).json()) as {
      versions: object;
    };
    expect(Object.keys(ranged.versions).sort()).toEqual(["1.27.0", "1.29.0"]);
    const wasm = await fetchLocal(
      "https://cdn.jsdelivr.net/npm/@duckdb/duckdb-wasm@1.29.0/dist/duckdb-eh.wasm",
    );
    const installed = await readFile(
      join(LAKEBOOK_ROOT, "node_modules/@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"),
    );
    expect(Buffer.from(await wasm.arrayBuffer()).equals(installed)).toBe(true);
  });

  it("refuses another version of DuckDB-WASM, explaining the offline choice", async () => {
    const error = await npm
      .respond(new URL("https://cdn.jsdelivr.net/npm/@duckdb/duckdb-wasm@1.32.0/+esm"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect((error as Error).message).toMatch(/holds 1\.27\.0.*extensions\.duckdb\.org.*without a version/);
  });

  it("leaves out the extensions an offline build cannot download, keeping the project's others", () => {
    expect(offlineDuckDBSpec({ title: "t" }, "1.27.0")).toEqual({
      title: "t",
      duckdb: { extensions: { parquet: null, json: null } },
    });
    expect(offlineDuckDBSpec({ duckdb: { extensions: ["spatial"] } }, "1.27.0")).toEqual({
      duckdb: { extensions: { spatial: {}, parquet: null, json: null } },
    });
    // Asked for by name: kept, so the build names the download it cannot make.
    expect(offlineDuckDBSpec({ duckdb: { extensions: { json: true } } }, "1.27.0")).toEqual({
      duckdb: { extensions: { json: true, parquet: null } },
    });
    // The project installed Framework's own version: its config is used as it is.
    expect(offlineDuckDBSpec({ title: "t" }, "1.29.0")).toEqual({ title: "t" });
  });

  it("keeps the pinned version's cache folder when it holds the installed version's files", async () => {
    const root = await tempDir();
    const folder = join(root, ".observablehq", "cache", "_npm", "@duckdb", "duckdb-wasm@1.29.0");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "_esm.js"), "/* lakebook bundle 2 */export{}");
    expect(await prepareNpmCache(root, npm)).toEqual([]);
    expect(existsSync(join(folder, "_esm.js"))).toBe(true);
  });
});

describe("prepareNpmCache", () => {
  it("removes other versions, placeholders and CDN bundles of installed packages, and keeps the rest", async () => {
    const root = await tempDir();
    const cache = join(root, ".observablehq", "cache", "_npm");
    const folder = async (name: string, esm?: string) => {
      await mkdir(join(cache, name), { recursive: true });
      if (esm !== undefined) await writeFile(join(cache, name, "_esm.js"), esm);
    };
    await folder("d3@7.99.0"); // a stray newer version would win an unversioned import
    await folder("lodash@0.0.0-lakebook-not-installed");
    await folder("d3-dsv@3.0.2", "/**\n * Bundled by jsDelivr using Rollup\n */\nnew Function();");
    await folder("@observablehq/plot@0.6.17", "/* lakebook bundle 2 */export{}");
    await folder("sql.js@1.17.0", "var module;\n");
    await folder("left-pad-online@1.0.0", "/**\n * Bundled by jsDelivr using Rollup\n */");
    const removed = await prepareNpmCache(root, npm);
    expect(removed.sort()).toEqual(["d3-dsv@3.0.2", "d3@7.99.0", "lodash@0.0.0-lakebook-not-installed"]);
    expect(existsSync(join(cache, "@observablehq/plot@0.6.17/_esm.js"))).toBe(true);
    expect(existsSync(join(cache, "sql.js@1.17.0/_esm.js"))).toBe(true);
    // Not installed here: a cache filled online still serves it.
    expect(existsSync(join(cache, "left-pad-online@1.0.0/_esm.js"))).toBe(true);
  });
});
