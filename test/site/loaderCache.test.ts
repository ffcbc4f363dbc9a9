/**
 * The loader cache on real Framework builds: a loader output is reused while the dataset versions
 * its loader read, its code and the modules it imports are unchanged and it is younger than its
 * maxAge, and rerun (with the reason said) when any of them changes or on --refresh.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLake, landBytes, type Lake } from "../../src/lake/index.ts";
import { ingestCsv } from "../../src/pipeline/index.ts";
import { buildSite, type BuildProgress, type BuildSiteResult } from "../../src/site/index.ts";
import { REPO_ROOT, createSiteFixture, type SiteFixture } from "./fixture.ts";

const PIPELINE = pathToFileURL(join(REPO_ROOT, "src/pipeline/index.ts")).href;
const LAKE = pathToFileURL(join(REPO_ROOT, "src/lake/index.ts")).href;
const CONFIG = pathToFileURL(join(REPO_ROOT, "src/config.ts")).href;

/** Reads raw/quotes through the public read path, notes each run, formats with a local module. */
const QUOTES_LOADER = `import { appendFileSync } from "node:fs";
import { configFromEnv } from "${CONFIG}";
import { createLake } from "${LAKE}";
import { readSnapshot } from "${PIPELINE}";
import { label } from "./lib/label.ts";

const config = configFromEnv();
appendFileSync(config.root + "/quotes-runs.log", "run\\n");
const snapshot = await readSnapshot(createLake(config), "raw", "quotes");
process.stdout.write(JSON.stringify({ label: label(snapshot.version), rows: snapshot.rows.length }));
`;

const AGED_LOADER = `import { appendFileSync } from "node:fs";
export const maxAge = "1h";
appendFileSync(process.env.LAKEBOOK_ROOT + "/aged-runs.log", "run\\n");
process.stdout.write(JSON.stringify({ at: "now" }));
`;

const PAGE = `# Quotes

\`\`\`js
const quotes = FileAttachment("data/quotes.json").json();
const aged = FileAttachment("data/aged.json").json();
\`\`\`

<p id="label">\${quotes.label}</p>
`;

let fixture: SiteFixture;
let lake: Lake;
let clock = Date.parse("2026-06-01T00:00:00Z");

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

async function runs(name: string): Promise<number> {
  const text = await readFile(join(fixture.root, `${name}-runs.log`), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).length;
}

async function build(
  refresh?: boolean | string[],
): Promise<{ result: BuildSiteResult; events: BuildProgress[] }> {
  const events: BuildProgress[] = [];
  const result = await buildSite(
    fixture.config,
    { now: () => new Date(clock), onProgress: (event) => events.push(event) },
    { ...(refresh !== undefined && { refresh }) },
  );
  clock += 60_000;
  return { result, events };
}

const decision = (result: BuildSiteResult, target: string) =>
  result.loaders.find((entry) => entry.target === target);

beforeAll(async () => {
  fixture = await createSiteFixture();
  for (const page of ["index.md", "explore.md", "note.md", "finance/margins.md"])
    await fixture.remove(`notebooks/${page}`);
  await fixture.write("notebooks/index.md", PAGE);
  // Top-level await in the loaders: ES modules, as in any Lakebook project.
  await fixture.write("package.json", JSON.stringify({ type: "module" }));
  await fixture.write("loaders/quotes.json.ts", QUOTES_LOADER);
  await fixture.write("loaders/lib/label.ts", `export const label = (v: number) => "version " + v;\n`);
  await fixture.write("loaders/aged.json.ts", AGED_LOADER);
  lake = createLake(fixture.config);
  await ingest("ticker,close\nAAPL,1.5\n");
});

afterAll(async () => {
  await fixture?.cleanup();
});

describe("the loader cache", { timeout: 300_000 }, () => {
  it("runs every loader on the first build and reuses them when nothing changed", async () => {
    const first = await build();
    expect(decision(first.result, "data/quotes.json")).toEqual({
      target: "data/quotes.json",
      action: "rerun",
      reason: "no cached output",
    });
    expect(await runs("quotes")).toBe(1);

    const second = await build();
    expect(decision(second.result, "data/quotes.json")).toMatchObject({
      action: "reuse",
      reason: "raw/quotes v1 unchanged",
    });
    expect(decision(second.result, "data/aged.json")).toMatchObject({
      action: "reuse",
      reason: "within maxAge 1h",
    });
    expect(await runs("quotes")).toBe(1);
    expect(await runs("aged")).toBe(1);
    // The decisions travel with the build, beside its access rules.
    const stored = JSON.parse(await readFile(join(second.result.dir, ".lakebook", "loaders.json"), "utf8"));
    expect(stored).toEqual(second.result.loaders);
    // Progress: every phase, then a reuse line per loader.
    const phases = second.events.filter((e) => e.kind === "phase").map((e) => (e as { phase: string }).phase);
    expect(phases).toEqual(["prepare", "pages", "check", "publish"]);
    // A reused output has its decision and no run; the first build reported the run.
    expect(second.events.some((e) => e.kind === "loader")).toBe(false);
    expect(second.events).toContainEqual({
      kind: "decision",
      target: "data/quotes.json",
      action: "reuse",
      reason: "raw/quotes v1 unchanged",
    });
    expect(first.events).toContainEqual(
      expect.objectContaining({
        kind: "loader",
        target: "data/quotes.json",
        status: "success",
        bytes: '{"label":"version 1","rows":1}'.length,
      }),
    );
    expect(second.events).toContainEqual({ kind: "pages", count: 1 });
  });

  it("reruns a loader when a dataset it read has a new version", async () => {
    await ingest("ticker,close\nMSFT,2.5\n");
    const { result } = await build();
    expect(decision(result, "data/quotes.json")).toMatchObject({
      action: "rerun",
      reason: "raw/quotes v1 → v2",
    });
    expect(await runs("quotes")).toBe(2);
    const files = await readdir(join(result.dir, "_file", "data"));
    const output = await readFile(
      join(
        result.dir,
        "_file",
        "data",
        files.find((f) => f.startsWith("quotes."))!,
      ),
      "utf8",
    );
    expect(JSON.parse(output)).toEqual({ label: "version 2", rows: 2 });
  });

  it("reruns a loader when a local module it imports changes, naming the file", async () => {
    await fixture.write("loaders/lib/label.ts", `export const label = (v: number) => "v" + v;\n`);
    const { result } = await build();
    expect(decision(result, "data/quotes.json")).toMatchObject({
      action: "rerun",
      reason: "loaders/lib/label.ts changed",
    });
    expect(await runs("quotes")).toBe(3);
    expect(decision(result, "data/aged.json")?.action).toBe("reuse");
  });

  it("reruns a loader older than its maxAge, and the named one on --refresh", async () => {
    clock += 2 * 3_600_000;
    const aged = await build();
    expect(decision(aged.result, "data/aged.json")).toMatchObject({
      action: "rerun",
      reason: "older than 1h",
    });
    expect(await runs("aged")).toBe(2);

    const refreshed = await build(["quotes"]);
    expect(decision(refreshed.result, "data/quotes.json")).toMatchObject({
      action: "rerun",
      reason: "--refresh quotes.json.ts",
    });
    expect(decision(refreshed.result, "data/aged.json")?.action).toBe("reuse");
    expect(await runs("quotes")).toBe(4);

    const all = await build(true);
    expect(
      all.result.loaders.every((entry) => entry.action === "rerun" && entry.reason === "--refresh"),
    ).toBe(true);
    expect(await runs("quotes")).toBe(5);
    expect(await runs("aged")).toBe(3);
  });
});
