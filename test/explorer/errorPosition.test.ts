import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import {
  duckErrorPosition,
  originalPosition,
  resolveDatasetRefs,
} from "../../notebooks/components/datasetRefs.js";

const datasets = [{ zone: "curated", dataset: "prices", version: 12 }];

/** DuckDB's own error message for `sql` (parsing and binding against an empty schema). */
async function duckError(sql: string): Promise<string> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE SCHEMA "curated@12"`);
    await connection.run(`CREATE TABLE "curated@12"."prices" (ticker VARCHAR, close DOUBLE)`);
    await connection.run(sql);
    throw new Error(`no error for ${sql}`);
  } catch (error) {
    return (error as Error).message;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The error position DuckDB gives for the rewritten SQL, mapped back to `written`. */
async function positionOf(written: string): Promise<number | undefined> {
  const resolved = resolveDatasetRefs(written, datasets);
  const at = duckErrorPosition(await duckError(resolved.sql), resolved.sql);
  return at === undefined ? undefined : originalPosition(resolved.edits, at);
}

describe("error positions in the SQL as written", () => {
  it("maps a syntax error after a rewritten reference back to the word written", async () => {
    const sql = "SELECT ticker FROM curated.prices WHER close > 3";
    expect(await positionOf(sql)).toBe(sql.indexOf("close"));
  });

  it("finds the line and column of an unknown column on a later line", async () => {
    const sql = "SELECT ticker,\n  nope\nFROM prices";
    expect(await positionOf(sql)).toBe(sql.indexOf("nope"));
  });

  it("places the caret inside a long line that DuckDB shows cut, with '...'", async () => {
    const sql = `SELECT ${Array.from({ length: 30 }, (_, i) => `close AS c${i}`).join(", ")}, nope FROM curated.prices`;
    expect(await positionOf(sql)).toBe(sql.indexOf("nope"));
  });

  it("reads the server's 'at character N' and gives nothing for a message without a position", () => {
    expect(
      duckErrorPosition("no dataset curated.sales that you may read (at character 15)", "x".repeat(40)),
    ).toBe(14);
    expect(duckErrorPosition("Out of Memory Error: failed to allocate", "SELECT 1")).toBeUndefined();
  });

  it("maps a position inside a rewritten reference to the reference's start", () => {
    const resolved = resolveDatasetRefs("SELECT * FROM curated.prices@3 x", datasets);
    expect(originalPosition(resolved.edits, resolved.sql.indexOf("prices"))).toBe(14);
    expect(originalPosition(resolved.edits, resolved.sql.indexOf(" x"))).toBe(
      "SELECT * FROM curated.prices@3".length,
    );
  });
});
