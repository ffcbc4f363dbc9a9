/**
 * The lake commands as users run them: `node bin/lakebook.js ...` in a child process with
 * LAKEBOOK_LAKE_DIR set to a temporary lake; assertions on exit codes and output.
 */
import { cp, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vegaDataPath } from "../helpers/market.ts";
import { type CliRun, runLakebook } from "../helpers/cli.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const STOCK_COLUMNS = "symbol:VARCHAR,date:DATE:%b %d %Y,price:DECIMAL(18,4)";

function lakebook(lakeDir: string, args: string[]): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, LAKEBOOK_LAKE_DIR: lakeDir, TZ: "UTC" };
  for (const name of Object.keys(env)) if (name.startsWith("LAKEBOOK_S3_")) delete env[name];
  return runLakebook(args, { env });
}

async function csvFile(content: string): Promise<string> {
  const path = join(await tempDir(), "input.csv");
  await writeFile(path, content);
  return path;
}

let baseDir: string;

/** The market pipeline run through the CLI once (ingest both files, then promote); tests copy it. */
beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), "lakebook-cli-"));
  const lakeDir = join(baseDir, "lake");
  for (const [file, dataset, columns] of [
    ["stocks.csv", "vega_stocks", STOCK_COLUMNS],
    ["sp500.csv", "vega_sp500", "date:DATE:%b %d %Y,price:DECIMAL(18,4)"],
  ] as const) {
    const run = await lakebook(lakeDir, [
      "ingest",
      vegaDataPath(file),
      "--source",
      "vega",
      "--dataset",
      dataset,
      "--columns",
      columns,
    ]);
    expect(run, run.stderr).toMatchObject({ code: 0 });
  }
  const promoted = await lakebook(lakeDir, ["promote", "--json"]);
  expect(promoted.code, promoted.stderr).toBe(0);
  expect(JSON.parse(promoted.stdout).steps).toMatchObject([
    { zone: "staging", dataset: "prices", version: 1, created: true },
    { zone: "curated", dataset: "prices", version: 1, created: true },
  ]);
});
afterAll(async () => {
  await rm(baseDir, { recursive: true, force: true });
});

async function marketLake(): Promise<string> {
  const lakeDir = join(await tempDir(), "lake");
  await cp(join(baseDir, "lake"), lakeDir, { recursive: true });
  return lakeDir;
}

describe("lakebook ingest", () => {
  it("ingests a CSV into a raw version and reports rejected rows with --json", async () => {
    const lakeDir = join(await tempDir(), "lake");
    const csv = await csvFile("symbol,date,price\nA,Jan 1 2000,1.5\nB,Jan 2 2000,abc\nC,Jan 3 2000,2\n");
    const args = ["ingest", csv, "--source", "feed", "--dataset", "quotes", "--columns", STOCK_COLUMNS];
    const run = await lakebook(lakeDir, [...args, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.raw).toMatchObject({
      dataset: "quotes",
      version: 1,
      created: true,
      rowCount: 2,
      rejected: 1,
    });
    const rejects = JSON.parse(await readFile(join(lakeDir, result.raw.rejectsKey), "utf8"));
    expect(rejects).toMatchObject([
      { line: 3, reason: "column 'price': 'abc' is not a valid DECIMAL(18,4)" },
    ]);

    const again = await lakebook(lakeDir, args);
    expect(again).toMatchObject({
      code: 0,
      stdout: "raw/quotes v1: unchanged (this file was already ingested)\n",
    });
  });

  it("reads the columns from a JSON spec file", async () => {
    const lakeDir = join(await tempDir(), "lake");
    const csv = await csvFile("day;amount\n2026-01-02;10.25\n");
    const spec = join(await tempDir(), "spec.json");
    await writeFile(
      spec,
      JSON.stringify({
        delimiter: ";",
        columns: [
          { name: "day", type: "DATE" },
          { name: "amount", type: "decimal(12, 2)" },
        ],
      }),
    );
    const run = await lakebook(lakeDir, [
      "ingest",
      csv,
      "--source",
      "bank",
      "--dataset",
      "payments",
      "--spec",
      spec,
    ]);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^raw\/payments v1: 1 rows added/) });
  });

  it.each([
    ["an empty file", "", 1, /is empty: the source delivered no data/],
    ["a header only", "symbol,date,price\n", 1, /has a header but no data rows/],
    ["a binary file", "symbol,date,price\nA\u0000\u0001,\u0002\n", 1, /is not a text file/],
    [
      "the wrong columns",
      "ticker,day\nA,2020-01-01\n",
      1,
      /has the wrong columns for quotes: missing 'symbol'/,
    ],
  ])(
    "refuses %s with exit 1, a one-line message, and leaves the lake unchanged",
    async (_what, content, code, message) => {
      const lakeDir = join(await tempDir(), "lake");
      const csv = await csvFile(content);
      const run = await lakebook(lakeDir, [
        "ingest",
        csv,
        "--source",
        "feed",
        "--dataset",
        "quotes",
        "--columns",
        STOCK_COLUMNS,
      ]);
      expect(run.code).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(await stat(join(lakeDir, "raw")).catch(() => undefined)).toBeUndefined();
      // Refused before landing: no bytes and no provenance record either.
      expect(await stat(join(lakeDir, "landing")).catch(() => undefined)).toBeUndefined();
    },
  );

  it("exits 2 with what to do when the columns are missing or wrong", async () => {
    const lakeDir = join(await tempDir(), "lake");
    const csv = await csvFile("a\n1\n");
    const missing = await lakebook(lakeDir, ["ingest", csv, "--source", "feed", "--dataset", "d"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs the file's columns: --columns 'name:TYPE,...' or --spec/);
    const wrong = await lakebook(lakeDir, [
      "ingest",
      csv,
      "--source",
      "feed",
      "--dataset",
      "d",
      "--columns",
      "a:MONEY",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/column 'a' has the unknown type 'MONEY': use VARCHAR, DATE/);
  });
});

describe("lakebook promote and lake", () => {
  it("promotes the project's models and describes the curated version with its lineage", async () => {
    const lakeDir = await marketLake();
    const ls = JSON.parse((await lakebook(lakeDir, ["lake", "ls", "--json"])).stdout);
    expect(ls.datasets.map((d: { zone: string; dataset: string }) => `${d.zone}/${d.dataset}`)).toEqual([
      "raw/vega_sp500",
      "raw/vega_stocks",
      "staging/prices",
      "curated/prices",
    ]);
    const show = await lakebook(lakeDir, ["lake", "show", "curated/prices", "--verify", "--json"]);
    expect(show.code, show.stderr).toBe(0);
    const manifest = JSON.parse(show.stdout);
    expect(manifest).toMatchObject({ version: 1, status: "live", problems: [] });
    expect(manifest.lineage.upstream).toEqual([
      { zone: "staging", dataset: "prices", version: 1 },
      { zone: "raw", dataset: "vega_stocks", version: 1 },
      { zone: "raw", dataset: "vega_sp500", version: 1 },
    ]);
    expect(manifest.lineage.landing.map((l: { origin: string }) => l.origin.split("/").at(-1))).toEqual([
      "stocks.csv",
      "sp500.csv",
    ]);
    const again = await lakebook(lakeDir, ["promote"]);
    expect(again.stdout).toMatch(
      /^staging\/prices v1: 683 rows, [\d.]+ KiB \(unchanged\)\ncurated\/prices v1: 683 rows, [\d.]+ KiB \(unchanged\)\n$/,
    );
  });

  it("gc only reports orphans until --apply, and never touches committed files", async () => {
    const lakeDir = await marketLake();
    const orphan = join(lakeDir, "curated", "prices", "data", "20260101T000000000-dead", "part-0.parquet");
    await mkdir(dirname(orphan), { recursive: true });
    await writeFile(orphan, "PAR1");
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(orphan, old, old);
    const dryRun = await lakebook(lakeDir, ["lake", "gc"]);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      "would remove curated/prices/data/20260101T000000000-dead/part-0.parquet (4 B): named by no committed version",
    );
    expect(await stat(orphan)).toBeDefined();
    const applied = JSON.parse((await lakebook(lakeDir, ["lake", "gc", "--apply", "--json"])).stdout);
    expect(applied).toMatchObject({
      applied: true,
      candidates: [{ key: "curated/prices/data/20260101T000000000-dead/part-0.parquet" }],
    });
    expect(await stat(orphan).catch(() => undefined)).toBeUndefined();
    expect((await lakebook(lakeDir, ["lake", "show", "curated/prices", "--verify"])).code).toBe(0);
  });

  it("archives old versions and restores one by number", async () => {
    const lakeDir = await marketLake();
    const csv = await csvFile("symbol,date,price\nMSFT,Jan 1 2000,40.00\n");
    await lakebook(lakeDir, [
      "ingest",
      csv,
      "--source",
      "vega",
      "--dataset",
      "vega_stocks",
      "--columns",
      STOCK_COLUMNS,
    ]);
    expect((await lakebook(lakeDir, ["promote"])).code).toBe(0);
    const archived = await lakebook(lakeDir, [
      "lake",
      "archive",
      "curated/prices",
      "--older-than",
      "0",
      "--apply",
    ]);
    expect(archived).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("archived curated/prices v1"),
    });
    const history = JSON.parse(
      (await lakebook(lakeDir, ["lake", "history", "curated/prices", "--json"])).stdout,
    );
    expect(history.versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [1, "archived"],
      [2, "live"],
    ]);
    const restored = await lakebook(lakeDir, ["lake", "restore", "curated/prices", "1"]);
    expect(restored).toMatchObject({ code: 0, stdout: "restored curated/prices v1: 683 rows\n" });
    const bad = await lakebook(lakeDir, ["lake", "restore", "curated/prices", "one"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a version number/);
  });
});
