import { describe, expect, it } from "vitest";
import { runLakebook } from "../helpers/cli.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { csvSource, writeProject } from "../project/projectFixture.ts";

const tempDir = useTempDirs();

async function project(extra: Record<string, string> = {}) {
  const root = await tempDir();
  await writeProject(root, {
    "package.json": JSON.stringify({ name: "cli-test", private: true, type: "module" }),
    "q.csv": "ticker,close\nAAA,1.5\nBBB,2\n",
    "sources/quotes.ts": csvSource("q.csv", "ticker:VARCHAR,close:DECIMAL(18,4)"),
    "models/staging/quotes.sql": "SELECT ticker, close FROM raw.quotes\n",
    "models/curated/quotes.sql": "SELECT * FROM staging.quotes\n",
    "loaders/quotes.json.ts": `import { readDataset } from "lakebook";\nawait readDataset("curated.quotes");\n`,
    "notebooks/index.md": '```js\nconst q = FileAttachment("data/quotes.json").json();\n```\n',
    ...extra,
  });
  const env = { ...process.env, LAKEBOOK_ROOT: root, LAKEBOOK_LAKE_DIR: `${root}/data/lake` };
  return { root, env };
}

describe("lakebook run and ls", () => {
  it("runs a selection, prints JSON, and ls shows the graph with versions down to the pages", async () => {
    const { env } = await project();
    const run = await runLakebook(["run", "+staging.quotes", "--json"], { env });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ["raw.quotes", "committed"],
      ["staging.quotes", "committed"],
    ]);
    const all = await runLakebook(["run"], { env });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^raw\.quotes v1 \(2 rows\) unchanged$/m);
    expect(all.stdout).toMatch(/^curated\.quotes v1 \(2 rows\) new$/m);

    const ls = await runLakebook(["dag", "--json"], { env });
    expect(ls.code, ls.stderr).toBe(0);
    const entries = Object.fromEntries(JSON.parse(ls.stdout).entries.map((e: { id: string }) => [e.id, e]));
    expect(entries["staging.quotes"]).toMatchObject({
      kind: "model",
      file: "models/staging/quotes.sql",
      upstream: ["raw.quotes"],
      downstream: ["curated.quotes"],
      version: 1,
      rows: 2,
      quality: "none",
    });
    expect(entries["raw.quotes"]).toMatchObject({ kind: "source", lastRun: { status: "succeeded" } });
    expect(entries["curated.quotes"].downstream).toEqual(["page:/"]);
    expect(entries["page:/"]).toMatchObject({ kind: "page", upstream: ["curated.quotes"] });
  });

  it("exits 1 naming the step a quality gate blocked, and refuses an unknown selection", async () => {
    const { env } = await project({
      "quality/curated.quotes.yaml":
        "zone: curated\ndataset: quotes\nexpectations:\n  - { type: between, column: close, min: 10 }\n",
    });
    const run = await runLakebook(["run"], { env });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^curated\.quotes BLOCKED: /m);
    expect(run.stderr).toContain("1 step(s) did not complete: curated.quotes");
    const unknown = await runLakebook(["run", "curated.nope"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nothing in the project is named 'curated.nope'/);
  });
});
