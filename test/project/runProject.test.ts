import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listVersionNumbers, maybeHead } from "../../src/lake/index.ts";
import { readSnapshot } from "../../src/pipeline/index.ts";
import { type RunEvent, loadProject, runProject } from "../../src/project/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { csvSource, projectContext, writeProject } from "./projectFixture.ts";

const tempDir = useTempDirs();

const QUOTES_CSV = "ticker,day,close\nAAA,2024-01-02,1.2500\nBBB,2024-01-02,oops\nAAA,2024-01-03,1.5\n";

const MARKET = {
  "quotes.csv": QUOTES_CSV,
  "sources/quotes.ts": csvSource("quotes.csv", "ticker:VARCHAR,day:DATE,close:DECIMAL(18,4)"),
  "models/staging/quotes.sql": `-- ---
-- key: [ticker, day]
-- latest_by: _ingested_at
-- order_by: [ticker, day]
-- ---
SELECT ticker, day, close, _ingested_at FROM raw.quotes
`,
  "models/curated/quotes.sql":
    "-- ---\n-- order_by: [day]\n-- ---\nSELECT ticker, day, close FROM staging.quotes\n",
};

async function setUp(files: Record<string, string>) {
  const root = await tempDir();
  await writeProject(root, files);
  return { root, project: await loadProject(root), ...projectContext(root) };
}

describe("lakebook run", () => {
  it("runs sources and models in dependency order; a rerun on unchanged inputs commits nothing", async () => {
    const { project, lake, config } = await setUp(MARKET);
    const first = await runProject(project, { lake, config });
    expect(first.ok).toBe(true);
    expect(first.steps.map((s) => [s.id, s.status])).toEqual([
      ["raw.quotes", "committed"],
      ["staging.quotes", "committed"],
      ["curated.quotes", "committed"],
    ]);
    expect(first.steps[0]!.rejected).toBe(1);
    const raw = await maybeHead(lake.storage, "raw", "quotes");
    const rejects = JSON.parse((await lake.storage.read(raw!.rejects.key!)).toString("utf8"));
    expect(rejects).toEqual([
      { line: 3, reason: expect.stringContaining("column 'close': 'oops'"), text: "BBB,2024-01-02,oops" },
    ]);
    const curated = await readSnapshot(lake, "curated", "quotes");
    expect(curated.rows).toEqual([
      { ticker: "AAA", day: "2024-01-02", close: "1.2500" },
      { ticker: "AAA", day: "2024-01-03", close: "1.5000" },
    ]);
    expect(curated.schema.find((c) => c.name === "close")!.type).toBe("DECIMAL(18,4)");

    const second = await runProject(project, { lake, config });
    expect(second.steps.map((s) => s.status)).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(await listVersionNumbers(lake.storage, "curated", "quotes")).toEqual([1]);
  });

  it("reads no data for a model whose inputs are unchanged (their data files are unreadable and it still succeeds)", async () => {
    const { root, project, lake, config } = await setUp(MARKET);
    expect((await runProject(project, { lake, config })).ok).toBe(true);
    // Every data file the models could read is replaced by bytes no Parquet reader accepts.
    for (const [zone, dataset] of [
      ["raw", "quotes"],
      ["staging", "quotes"],
    ] as const) {
      for (const file of (await maybeHead(lake.storage, zone, dataset))!.files) {
        await writeFile(await lake.storage.localPath(file.key), "not parquet");
      }
    }
    const again = await runProject(project, { lake, config }, { selection: ["staging.quotes+"] });
    expect(again.steps.map((s) => [s.id, s.status])).toEqual([
      ["staging.quotes", "unchanged"],
      ["curated.quotes", "unchanged"],
    ]);
    // The control: a changed model must read its input, and so fails on those bytes.
    await writeFile(join(root, "models/curated/quotes.sql"), "SELECT ticker, close FROM staging.quotes\n");
    const changed = await runProject(
      await loadProject(root),
      { lake, config },
      { selection: ["curated.quotes"] },
    );
    expect(changed.steps[0]).toMatchObject({ id: "curated.quotes", status: "failed" });
  });

  it("a failing quality gate stops only its downstream; the other branches run", async () => {
    const { project, lake, config } = await setUp({
      ...MARKET,
      "sources/fx.ts": csvSource("fx.csv", "ccy:VARCHAR,rate:DECIMAL(10,4)"),
      "fx.csv": "ccy,rate\nEUR,1.1000\nGBP,1.2500\n",
      "models/staging/fx.sql": "SELECT ccy, rate FROM raw.fx\n",
      "models/curated/fx.sql": "SELECT ccy, rate FROM staging.fx\n",
      "models/curated/both.sql": "SELECT count(*) AS n FROM curated.fx, curated.quotes\n",
      "quality/staging.fx.yaml":
        "zone: staging\ndataset: fx\nexpectations:\n  - { type: between, column: rate, min: 5 }\n",
    });
    const summary = await runProject(project, { lake, config });
    const status = Object.fromEntries(summary.steps.map((s) => [s.id, s.status]));
    expect(status).toEqual({
      "raw.fx": "committed",
      "raw.quotes": "committed",
      "staging.fx": "blocked",
      "staging.quotes": "committed",
      "curated.fx": "skipped",
      "curated.quotes": "committed",
      "curated.both": "skipped",
    });
    expect(summary.ok).toBe(false);
    expect(summary.steps.find((s) => s.id === "staging.fx")!.message).toMatch(/rate/);
    expect(summary.steps.find((s) => s.id === "curated.fx")!.message).toBe("upstream staging.fx blocked");
    expect(await maybeHead(lake.storage, "staging", "fx")).toBeUndefined();
    expect((await maybeHead(lake.storage, "curated", "quotes"))!.version).toBe(1);
  });

  it("runs independent branches at once, and one step at a time with concurrency 1", async () => {
    const files = {
      ...MARKET,
      "sources/fx.ts": csvSource("fx.csv", "ccy:VARCHAR,rate:DOUBLE"),
      "fx.csv": "ccy,rate\nEUR,1.1\n",
    };
    const maxInFlight = async (concurrency: number) => {
      const { project, lake, config } = await setUp(files);
      let inFlight = 0;
      let max = 0;
      const onEvent = (event: RunEvent) => {
        inFlight += event.type === "start" ? 1 : event.step.status === "skipped" ? 0 : -1;
        max = Math.max(max, inFlight);
      };
      expect((await runProject(project, { lake, config }, { concurrency, onEvent })).ok).toBe(true);
      return max;
    };
    expect(await maxInFlight(1)).toBe(1);
    expect(await maxInFlight(2)).toBe(2);
  });
});
