import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { QualityError } from "../../src/errors.ts";
import { loadSuiteFile, parseSuite, validateVersion } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { CLEAN_ROWS, commitRows, tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();

const HEADER = "zone: raw\ndataset: trades\nexpectations:\n";

function suiteError(text: string): string {
  try {
    parseSuite(text, "quality/raw.trades.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(QualityError);
    return (error as Error).message;
  }
  throw new Error("the suite was accepted");
}

/** Validates CLEAN_ROWS with the suite after deleting the data file: a bad suite must be refused first. */
async function checkError(expectationsYaml: string): Promise<string> {
  const lake = await tempLake(await tempDir());
  const manifest = await commitRows(lake, "raw", "trades", CLEAN_ROWS);
  await rm(await lake.storage.localPath(manifest.files[0]!.key));
  const error = await validateVersion(
    lake,
    parseSuite(HEADER + expectationsYaml, "quality/raw.trades.yaml"),
  ).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(QualityError);
  return (error as Error).message;
}

describe("suite files", () => {
  it("points at the file and line of an unknown expectation type", () => {
    expect(
      suiteError(HEADER + "  - type: not_null\n    column: a\n  - type: nonsense\n    column: b\n"),
    ).toBe(
      "quality/raw.trades.yaml:6: expectation 2 (nonsense): unknown expectation type 'nonsense': use one of " +
        "not_null, unique, between, in_set, matches_regex, column_type, schema, row_count_between, " +
        "row_count_change, freshness, referential, sql",
    );
  });

  it("points at the line of a misspelled option", () => {
    expect(suiteError(HEADER + "  - type: not_null\n    column: a\n    severty: warn\n")).toMatch(
      /^quality\/raw\.trades\.yaml:4: expectation 1 \(not_null\): .*severty/,
    );
  });

  it("points at the line of a bad value", () => {
    expect(
      suiteError(HEADER + "  - type: between\n    column: a\n    min: 1\n    severity: fatal\n"),
    ).toMatch(/^quality\/raw\.trades\.yaml:7: expectation 1 \(between\): 'severity': /);
  });

  it("reports YAML syntax errors with their line", () => {
    expect(suiteError(HEADER + "  - type: not_null\n    column: [a\n")).toMatch(
      /^quality\/raw\.trades\.yaml:\d+: not valid YAML\/JSON/,
    );
  });

  it("reads JSON suite files with the same checks", async () => {
    const dir = await tempDir();
    const path = join(dir, "raw.trades.json");
    await writeFile(
      path,
      JSON.stringify(
        { zone: "raw", dataset: "trades", expectations: [{ type: "unique", columns: ["id"] }] },
        null,
        2,
      ),
    );
    expect((await loadSuiteFile(path)).expectations).toEqual([{ type: "unique", columns: ["id"] }]);
  });

  it("refuses a file whose name names another dataset", async () => {
    const dir = await tempDir();
    const path = join(dir, "curated.prices.yaml");
    await writeFile(path, HEADER + "  - type: not_null\n    column: a\n");
    await expect(loadSuiteFile(path)).rejects.toThrow(/named for curated\/prices but declares raw\/trades/);
  });
});

describe("suite checks against the dataset, before any data is read", () => {
  it("rejects a missing column with the file, line and expectation", async () => {
    const message = await checkError(
      "  - type: not_null\n    column: id\n  - type: not_null\n    column: nope\n",
    );
    expect(message).toContain(
      "quality/raw.trades.yaml:6: expectation 2 (not_null(nope)): column 'nope' does not exist",
    );
    expect(message).not.toContain("expectation 1");
  });

  it("rejects a regex check on a non-text column", async () => {
    expect(await checkError("  - type: matches_regex\n    column: date\n    pattern: ^2\n")).toContain(
      "expectation 1 (matches_regex(date)): matches_regex needs a VARCHAR column, 'date' is DATE",
    );
  });

  it("rejects bounds of the wrong type", async () => {
    expect(await checkError("  - type: between\n    column: close\n    min: '2020-01-01'\n")).toContain(
      "column 'close' is DECIMAL(18,4): give numeric bounds, got '2020-01-01'",
    );
  });

  it("rejects an invalid regex using DuckDB's regex engine", async () => {
    expect(await checkError("  - type: matches_regex\n    column: code\n    pattern: 'X(['\n")).toMatch(
      /expectation 1 \(matches_regex\(code\)\): invalid regular expression 'X\(\[': .*missing/,
    );
  });

  it("rejects a SQL predicate that does not compile", async () => {
    expect(await checkError("  - type: sql\n    predicate: volume >>> 0\n")).toContain(
      "expectation 1 (sql): the predicate does not compile",
    );
  });

  it("rejects a SQL predicate holding a second statement", async () => {
    expect(await checkError("  - type: sql\n    predicate: 'true; DROP TABLE x'\n")).toContain(
      "the predicate must be one SQL expression without ';'",
    );
  });

  it("rejects a referential check against a dataset with no version", async () => {
    expect(
      await checkError(
        "  - type: referential\n    column: exchange\n    to: { zone: curated, dataset: exchanges }\n",
      ),
    ).toContain("curated/exchanges has no version to check against: promote it first");
  });
});
