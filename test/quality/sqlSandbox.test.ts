/**
 * User-written SQL (quality predicates, promotion models) runs on a DuckDB connection that can
 * open only the lake files its step is entitled to: reading any other file (a server file, a
 * planted secret, another lake's Parquet, a glob) is refused with a message that quotes none of
 * the file's content, and the lock cannot be lifted from inside the SQL.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError, QualityError } from "../../src/errors.ts";
import { type Lake, listVersionNumbers, maybeHead } from "../../src/lake/index.ts";
import { promote } from "../../src/pipeline/index.ts";
import { parseSuite, qualityGate, validateVersion } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { CLEAN_ROWS, commitRows, tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();

const SECRET = "TOPSECRET-7f3a9c";

interface Setup {
  lake: Lake;
  /** A file outside the lake holding SECRET. */
  secretFile: string;
  /** A data file of another lake (also holding SECRET). */
  otherLakeFile: string;
  /** A data file of another dataset of the same lake, which the step does not read. */
  otherDatasetFile: string;
}

async function setup(): Promise<Setup> {
  const dir = await tempDir();
  const lake = await tempLake(dir);
  await commitRows(lake, "raw", "trades", CLEAN_ROWS);
  const secretFile = join(dir, "secret.csv");
  await writeFile(secretFile, `token\n${SECRET}\n`);
  const other = await tempLake(join(dir, "other"));
  const manifest = await commitRows(other, "curated", "salaries", `SELECT '${SECRET}' AS token`);
  const sibling = await commitRows(lake, "curated", "payroll", `SELECT '${SECRET}' AS token`);
  return {
    lake,
    secretFile,
    otherLakeFile: await other.storage.localPath(manifest.files[0]!.key),
    otherDatasetFile: await lake.storage.localPath(sibling.files[0]!.key),
  };
}

/** Predicates that reach for files outside the dataset, each in a form that leaks if it runs. */
function hostilePredicates({ secretFile, otherLakeFile, otherDatasetFile }: Setup): Record<string, string> {
  return {
    read_csv_passwd: "(SELECT count(*) FROM read_csv('/etc/passwd', header = false)) >= 0",
    read_csv_secret: `CAST((SELECT token FROM read_csv('${secretFile}')) AS INTEGER) > 0`,
    read_text: `CAST((SELECT content FROM read_text('${secretFile}')) AS INTEGER) > 0`,
    read_text_passwd: "CAST((SELECT content FROM read_text('/etc/passwd')) AS INTEGER) > 0",
    glob: "(SELECT count(*) FROM glob('/etc/*')) > 0",
    other_lake: `CAST((SELECT token FROM read_parquet('${otherLakeFile}')) AS INTEGER) > 0`,
    other_dataset: `CAST((SELECT token FROM read_parquet('${otherDatasetFile}')) AS INTEGER) > 0`,
  };
}

function suiteWith(predicate: string, zone = "raw") {
  return parseSuite(
    `zone: ${zone}\ndataset: trades\nexpectations:\n  - id: hostile\n    type: sql\n    predicate: ${JSON.stringify(predicate)}\n`,
    `quality/${zone}.trades.yaml`,
  );
}

function expectRefusedWithoutContent(error: unknown, type: typeof QualityError | typeof DataError): void {
  expect(error).toBeInstanceOf(type);
  const message = (error as Error).message;
  expect(message).toMatch(/outside the datasets it is entitled to, which is refused/);
  expect(message).not.toContain(SECRET);
  expect(message).not.toMatch(/root:|\/bin\/(ba)?sh/);
}

describe("quality predicates cannot read files", () => {
  it("refuses read_csv, read_text, glob and another lake's Parquet in a predicate", async () => {
    const context = await setup();
    for (const [name, predicate] of Object.entries(hostilePredicates(context))) {
      const error = await validateVersion(context.lake, suiteWith(predicate)).catch((e: unknown) => e);
      expectRefusedWithoutContent(error, QualityError);
      expect((error as Error).message, name).toMatch(
        /quality\/raw\.trades\.yaml:\d+: expectation 1 \(hostile\)/,
      );
    }
  });

  it("refuses them in a promotion's gate, which commits nothing", async () => {
    const context = await setup();
    for (const predicate of Object.values(hostilePredicates(context))) {
      const error = await promote(context.lake, {
        inputs: { trades: { zone: "raw", dataset: "trades" } },
        output: { zone: "staging", dataset: "trades" },
        sql: "SELECT * FROM trades",
        gate: qualityGate(context.lake, suiteWith(predicate, "staging")),
      }).catch((e: unknown) => e);
      expectRefusedWithoutContent(error, QualityError);
    }
    expect(await maybeHead(context.lake.storage, "staging", "trades")).toBeUndefined();
  });

  it("still runs legitimate predicates", async () => {
    const { lake } = await setup();
    const passing = await validateVersion(lake, suiteWith("volume >= 0 AND ticker IN ('AAA', 'BBB', 'CCC')"));
    expect(passing.status).toBe("pass");
    const failing = await validateVersion(lake, suiteWith("close < 50"));
    expect(failing.results[0]).toMatchObject({ success: false, unexpectedCount: 61 });
  });
});

describe("promotion SQL cannot read files", () => {
  function promoteWith(lake: Lake, sql: string) {
    return promote(lake, {
      inputs: { trades: { zone: "raw", dataset: "trades" } },
      output: { zone: "staging", dataset: "trades" },
      sql,
    });
  }

  it("refuses a model reading a file by path, and commits nothing", async () => {
    const context = await setup();
    const models = [
      `SELECT * FROM read_csv('${context.secretFile}')`,
      `SELECT CAST(content AS INTEGER) AS n FROM read_text('${context.secretFile}')`,
      `SELECT t.*, s.token FROM trades t, read_parquet('${context.otherLakeFile}') s`,
      `SELECT t.*, s.token FROM trades t, read_parquet('${context.otherDatasetFile}') s`,
      "SELECT * FROM glob('/etc/*')",
      "SELECT * FROM read_csv('/etc/passwd', header = false)",
    ];
    for (const sql of models) {
      const error = await promoteWith(context.lake, sql).catch((e: unknown) => e);
      expectRefusedWithoutContent(error, DataError);
      expect((error as Error).message).toMatch(/^the SQL of step staging\/trades failed: /);
    }
    expect(await listVersionNumbers(context.lake.storage, "staging", "trades")).toEqual([]);
  });

  it("cannot turn external access back on from inside the SQL", async () => {
    const context = await setup();
    const error = await promoteWith(
      context.lake,
      `SELECT * FROM trades); SET enable_external_access = true; SELECT * FROM (SELECT * FROM read_text('${context.secretFile}')`,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/the configuration has been locked/);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it("never quotes the data a failing conversion choked on", async () => {
    const context = await setup();
    const error = await promoteWith(
      context.lake,
      `SELECT CAST(ticker || '${SECRET}' AS INTEGER) AS n FROM trades`,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/Conversion Error: Could not convert string '…' to INT32/);
    expect((error as Error).message).not.toMatch(/AAA|BBB|CCC/);
  });
});
