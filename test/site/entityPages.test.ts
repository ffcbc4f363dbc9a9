/**
 * Pages per entity on real Framework builds: a page template (`ticker/[ticker].md`) whose front
 * matter `paths` query over the lake gives one page per distinct value, each fed by a
 * parameterized loader; only the entities whose rows changed rerun their loader; unusable values
 * are refused with what to do; `dynamicPaths` may be a plain async function, and `pathsFrom`
 * makes one from a query; a template's `access` rule covers each of its pages.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError } from "../../src/errors.ts";
import { createLake, landBytes, type Lake } from "../../src/lake/index.ts";
import { ingestCsv } from "../../src/pipeline/index.ts";
import {
  buildSite,
  entityPaths,
  maybeCurrentBuild,
  normalizeDynamicPaths,
  type BuildSiteResult,
} from "../../src/site/index.ts";
import { REPO_ROOT, createSiteFixture, type SiteFixture } from "./fixture.ts";

const url = (path: string) => pathToFileURL(join(REPO_ROOT, path)).href;

/** One ticker's rows through the public read path, noting each run per ticker. */
const TICKER_LOADER = `import { appendFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { readDataset } from "${url("src/index.ts")}";
const { values } = parseArgs({ options: { ticker: { type: "string" } } });
appendFileSync(process.env.LAKEBOOK_ROOT + "/ticker-runs.log", values.ticker + "\\n");
const { snapshot } = await readDataset("raw.quotes", { where: { ticker: values.ticker } });
process.stdout.write(JSON.stringify({ ticker: values.ticker, version: snapshot.version, closes: snapshot.rows.map((r) => r.close) }));
`;

const TICKER_PAGE = `---
title: Ticker
paths: SELECT DISTINCT ticker FROM raw.quotes
---

# Ticker \${observable.params.ticker}

\`\`\`js
const data = FileAttachment(\`../data/ticker/\${observable.params.ticker}.json\`).json();
\`\`\`

<p id="closes">\${data.closes.join(" ")}</p>
`;

/** A template fed by the config's dynamicPaths: a plain async function using pathsFrom. */
const NAME_PAGE = `---\naccess: [finance]\n---\n\n# Name \${observable.params.name}\n`;
const CONFIG = `import base from "${url("observablehq.config.ts")}";
import { pathsFrom } from "${url("src/index.ts")}";
export default {
  ...base,
  dynamicPaths: async () => [
    ...(await pathsFrom("name/[name]", "SELECT DISTINCT lower(ticker) AS name FROM raw.quotes")()),
    "/name/plain",
  ],
};
`;

let fixture: SiteFixture;
let lake: Lake;

async function ingest(csv: string): Promise<void> {
  const { record } = await landBytes(lake.storage, {
    source: "broker",
    origin: "test",
    data: Buffer.from(csv),
    extension: "csv",
    contentType: "text/csv",
  });
  await ingestCsv(lake, record, {
    dataset: "quotes",
    columns: [
      { name: "ticker", type: "VARCHAR" },
      { name: "close", type: "DECIMAL(18,4)" },
    ],
  });
}

async function runs(): Promise<string[]> {
  const text = await readFile(join(fixture.root, "ticker-runs.log"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).sort();
}

async function pageText(result: BuildSiteResult, page: string): Promise<string> {
  return readFile(join(result.dir, `${page}.html`), "utf8");
}

beforeAll(async () => {
  fixture = await createSiteFixture();
  for (const page of ["index.md", "explore.md", "note.md", "finance/margins.md"])
    await fixture.remove(`notebooks/${page}`);
  await fixture.write("package.json", JSON.stringify({ type: "module" }));
  await fixture.write("notebooks/index.md", "# Tickers\n");
  await fixture.write("notebooks/ticker/[ticker].md", TICKER_PAGE);
  await fixture.write("loaders/ticker/[ticker].json.ts", TICKER_LOADER);
  await fixture.write("notebooks/name/[name].md", NAME_PAGE);
  await fixture.write("observablehq.config.ts", CONFIG);
  lake = createLake(fixture.config);
  await ingest("ticker,close\nAAPL,1.5\nMSFT,2.5\nAAPL,1.75\n");
});

afterAll(async () => {
  await fixture?.cleanup();
});

describe("pages per entity", { timeout: 300_000 }, () => {
  it("builds one page per distinct value, each with its own loader output", async () => {
    const result = await buildSite(fixture.config);
    const pages = (await readdir(join(result.dir, "ticker"))).filter((f) => f.endsWith(".html")).sort();
    expect(pages).toEqual(["AAPL.html", "MSFT.html"]);
    // The loader ran once per ticker with its parameter, and its output is attached to that page.
    expect(await runs()).toEqual(["AAPL", "MSFT"]);
    const outputs = (await readdir(join(result.dir, "_file", "data", "ticker"))).sort();
    expect(outputs.map((f) => f.replace(/\.[0-9a-f]+\.json$/, ""))).toEqual(["AAPL", "MSFT"]);
    const aapl = JSON.parse(await readFile(join(result.dir, "_file", "data", "ticker", outputs[0]!), "utf8"));
    expect(aapl).toEqual({ ticker: "AAPL", version: 1, closes: ["1.5000", "1.7500"] });
    expect(await pageText(result, "ticker/MSFT")).toContain(outputs[1]);
    expect(await pageText(result, "ticker/MSFT")).not.toContain(outputs[0]);
    // The config's plain async function (with pathsFrom) gave its pages too.
    const names = (await readdir(join(result.dir, "name"))).sort();
    expect(names).toEqual(["aapl.html", "msft.html", "plain.html"]);
    // A template's access rule covers every page made from it.
    const rules = JSON.parse(await readFile(join(result.dir, ".lakebook", "access.json"), "utf8"));
    expect(rules.filter((r: { path: string }) => r.path.startsWith("/name/"))).toEqual([
      { path: "/name/aapl", groups: ["finance"] },
      { path: "/name/msft", groups: ["finance"] },
      { path: "/name/plain", groups: ["finance"] },
    ]);
    expect(rules.some((r: { path: string }) => r.path.startsWith("/ticker/"))).toBe(false);
  });

  it("reruns only the loaders of entities whose rows changed", async () => {
    await ingest("ticker,close\nMSFT,3.5\nNVDA,9\n");
    const result = await buildSite(fixture.config);
    const decision = (target: string) => result.loaders.find((d) => d.target === target);
    expect(decision("data/ticker/AAPL.json")).toEqual({
      target: "data/ticker/AAPL.json",
      action: "reuse",
      reason: "raw/quotes v2 (ticker = AAPL: rows unchanged)",
    });
    expect(decision("data/ticker/MSFT.json")).toMatchObject({
      action: "rerun",
      reason: "raw/quotes v1 → v2",
    });
    expect(decision("data/ticker/NVDA.json")).toMatchObject({ action: "rerun" });
    expect(await runs()).toEqual(["AAPL", "MSFT", "MSFT", "NVDA"]);
    expect((await readdir(join(result.dir, "ticker"))).sort()).toEqual([
      "AAPL.html",
      "MSFT.html",
      "NVDA.html",
    ]);
  });

  it("refuses values that cannot name a page, saying which and what to do, and publishes nothing", async () => {
    const page = { template: "ticker/[ticker]", source: "notebooks/ticker/[ticker].md" };
    const refusal = async (value: string) =>
      entityPaths(lake, { ...page, sql: `SELECT '${value}' AS ticker FROM raw.quotes LIMIT 1` }).catch(
        (error: unknown) => error as Error,
      );
    for (const [value, why] of [
      ["a/b", "it holds '/'"],
      ["..", "it holds '..'"],
      ["x..y", "it holds '..'"],
      ["A B", "characters a URL would have to escape"],
      [".hidden", "characters a URL would have to escape"],
      ["?q=1", "characters a URL would have to escape"],
    ] as const) {
      const error = await refusal(value);
      expect(error, value).toBeInstanceOf(BuildError);
      expect((error as Error).message).toContain(
        `gave ticker = ${JSON.stringify(value)}, which cannot name a page`,
      );
      expect((error as Error).message).toContain(why);
      expect((error as Error).message).toContain(
        "regexp_replace(ticker, '[^A-Za-z0-9._~-]+', '-', 'g') AS ticker",
      );
    }
    // Safe values pass unchanged, a dotted ticker included.
    expect(
      await entityPaths(lake, { ...page, sql: "SELECT 'BRK.B' AS ticker FROM raw.quotes LIMIT 1" }),
    ).toEqual(["/ticker/BRK.B"]);
    // A query without the parameter's column, or writing, is refused.
    await expect(
      entityPaths(lake, { ...page, sql: "SELECT DISTINCT close FROM raw.quotes" }),
    ).rejects.toThrow(
      /must return a column for each parameter \(ticker\); missing ticker \(it returns close\)/,
    );
    await expect(
      entityPaths(lake, { ...page, sql: "COPY (SELECT * FROM raw.quotes) TO '/tmp/x.csv'" }),
    ).rejects.toThrow(/the 'paths' query failed/);
    await expect(entityPaths(lake, { ...page, sql: "SELECT 'x' AS ticker" })).rejects.toThrow(
      /reads no lake dataset/,
    );

    // In a build: the hostile ticker fails it, and the published site stays as it was.
    const before = await maybeCurrentBuild(fixture.config.siteDir);
    await ingest("ticker,close\n../../etc,1\n");
    const error = (await buildSite(fixture.config).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(BuildError);
    expect(error.message).toMatch(
      /^notebooks\/ticker\/\[ticker\]\.md: the 'paths' query gave ticker = "\.\.\/\.\.\/etc", which cannot name a page \(it holds '\/'\)/,
    );
    expect(await maybeCurrentBuild(fixture.config.siteDir)).toBe(before);
  });

  it("accepts dynamicPaths as an array, a plain function, an async function or a generator", async () => {
    const collect = async (spec: unknown) => {
      const paths: string[] = [];
      for await (const path of normalizeDynamicPaths(spec)()) paths.push(path);
      return paths;
    };
    expect(await collect(["/a", "/b"])).toEqual(["/a", "/b"]);
    expect(await collect(() => ["/a"])).toEqual(["/a"]);
    expect(await collect(async () => ["/a", "/b"])).toEqual(["/a", "/b"]);
    expect(await collect(async () => new Set(["/c"]))).toEqual(["/c"]);
    expect(
      await collect(async function* () {
        yield "/g";
      }),
    ).toEqual(["/g"]);
    expect(await collect(undefined)).toEqual([]);
    await expect(collect(async () => 42)).rejects.toThrow(
      /dynamicPaths returned number: return an array of page paths/,
    );
  });
});
