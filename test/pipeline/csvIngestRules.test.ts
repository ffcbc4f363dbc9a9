/**
 * Ingest rules beyond the happy path: line numbers that match an editor's after blank lines and
 * quoted line breaks, decimals that would be rounded, a quote that never closes, a changed column
 * type, and the spec being part of what "already ingested" means.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/errors.ts";
import {
  type Lake,
  type Provenance,
  createLake,
  listVersionNumbers,
  maybeHead,
} from "../../src/lake/index.ts";
import {
  type CsvIngestSpec,
  ingestCsv,
  normalizeCsvSpec,
  parquetRelation,
  withDb,
} from "../../src/pipeline/index.ts";
import { landFile } from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

const SPEC: CsvIngestSpec = {
  dataset: "quotes",
  columns: [
    { name: "symbol", type: "VARCHAR" },
    { name: "date", type: "DATE", format: "%b %d %Y" },
    { name: "price", type: "DECIMAL(18,4)" },
  ],
};

async function landed(csv: string, lake?: Lake): Promise<{ lake: Lake; landing: Provenance }> {
  const dir = await tempDir();
  const target = lake ?? createLake({ lakeDir: join(dir, "lake") });
  const path = join(dir, "input.csv");
  await writeFile(path, csv);
  return { lake: target, landing: (await landFile(target.storage, { source: "test", path })).record };
}

async function rawRows(lake: Lake): Promise<Record<string, unknown>[]> {
  const head = (await maybeHead(lake.storage, "raw", "quotes"))!;
  const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
  return withDb((db) => db.all(`SELECT symbol, price, _line FROM ${parquetRelation(paths)} ORDER BY _line`));
}

async function rejectsOf(lake: Lake): Promise<{ line: number; reason: string }[]> {
  const head = (await maybeHead(lake.storage, "raw", "quotes"))!;
  return JSON.parse((await lake.storage.read(head.rejects.key!)).toString());
}

describe("line numbers", () => {
  it("count blank lines", async () => {
    const { lake, landing } = await landed(
      "symbol,date,price\nA,Jan 1 2000,1.5\n\nB,Jan 2 2000,abc\n\n\nC,Jan 3 2000,2\nbroken\nD,Jan 4 2000,3\n",
    );
    await ingestCsv(lake, landing, SPEC);
    expect((await rawRows(lake)).map((r) => [r.symbol, r._line])).toEqual([
      ["A", "2"],
      ["C", "7"],
      ["D", "9"],
    ]);
    expect((await rejectsOf(lake)).map((r) => r.line)).toEqual([4, 8]);
  });

  it("count the line breaks inside quoted values", async () => {
    const { lake, landing } = await landed(
      'symbol,date,price\n"A\nmulti",Jan 1 2000,1.5\nB,Jan 2 2000,abc\n"C\n\nx",Jan 3 2000,2\nbroken\nD,Jan 4 2000,3\n',
    );
    await ingestCsv(lake, landing, SPEC);
    expect((await rawRows(lake)).map((r) => [r.symbol, r._line])).toEqual([
      ["A\nmulti", "2"],
      ["C\n\nx", "5"],
      ["D", "9"],
    ]);
    expect((await rejectsOf(lake)).map((r) => r.line)).toEqual([4, 8]);
  });
});

describe("decimals", () => {
  const CSV =
    "symbol,date,price\nA,Jan 1 2000,1.23456789\nB,Jan 2 2000,1.2345000\nC,Jan 3 2000,-2.5\nD,Jan 4 2000,1.5e-7\n";

  it("rejects a value with more decimal places than the scale, with its line", async () => {
    const { lake, landing } = await landed(CSV);
    const result = await ingestCsv(lake, landing, SPEC);
    expect(result.rejected).toBe(2);
    expect(await rejectsOf(lake)).toEqual([
      {
        line: 2,
        reason: `column 'price': '1.23456789' has more than 4 decimal places for DECIMAL(18,4); it would be rounded (set "round": true on the column to accept that)`,
        text: "A,Jan 1 2000,1.23456789",
      },
      expect.objectContaining({
        line: 5,
        reason: expect.stringMatching(/'1.5e-7' has more than 4 decimal places/),
      }),
    ]);
    expect((await rawRows(lake)).map((r) => r.price)).toEqual(["1.2345", "-2.5000"]);
  });

  it("rounds them when the column says round", async () => {
    const { lake, landing } = await landed(CSV);
    const spec = normalizeCsvSpec({
      dataset: "quotes",
      columns: [
        { name: "symbol", type: "VARCHAR" },
        { name: "date", type: "DATE", format: "%b %d %Y" },
        { name: "price", type: "DECIMAL(18,4)", round: true },
      ],
    });
    const result = await ingestCsv(lake, landing, spec);
    expect(result.rejected).toBe(0);
    expect((await rawRows(lake)).map((r) => r.price)).toEqual(["1.2346", "1.2345", "-2.5000", "0.0000"]);
  });
});

describe("malformed files", () => {
  it("refuses a file with a quote that never closes, naming its line, and commits nothing", async () => {
    const { lake, landing } = await landed(
      'symbol,date,price\nA,Jan 1 2000,1.5\n\n"B,Jan 2 2000,2\nC,Jan 3 2000,3\nD,Jan 4 2000,4\n',
    );
    const error = await ingestCsv(lake, landing, SPEC).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(
      /: line 4 opens a quoted value that is never closed, .*nothing was ingested$/,
    );
    expect(await listVersionNumbers(lake.storage, "raw", "quotes")).toEqual([]);
  });

  it("gives every rejected row the text it has in the file, whatever the reason", async () => {
    const csv = [
      "symbol,date,price",
      "A,Jan 1 2000,1.5",
      "B,Jan 2 2000,abc", // wrong type
      "C,Jan 3 2000", // too few columns
      "D,Jan 4 2000,4,4", // too many columns
      "E,Foo 5 2000,5", // bad date
      '"F\r\nG",Feb 30 2000,6', // bad date in a record spanning two lines
      "H,Jan 8 2000,8",
      '"I,Jan 9 2000,9', // a quote that never closes, on the last line
    ].join("\n");
    const { lake, landing } = await landed(csv + "\n");
    const result = await ingestCsv(lake, landing, SPEC);
    expect(result.rejected).toBe(6);
    const rejects = JSON.parse((await lake.storage.read(result.manifest.rejects.key!)).toString());
    expect(rejects.map((r: { line: number; text: string | null }) => [r.line, r.text])).toEqual([
      [3, "B,Jan 2 2000,abc"],
      [4, "C,Jan 3 2000"],
      [5, "D,Jan 4 2000,4,4"],
      [6, "E,Foo 5 2000,5"],
      [7, '"F\nG",Feb 30 2000,6'],
      [10, '"I,Jan 9 2000,9'],
    ]);
    expect(rejects.at(-1).reason).toMatch(/^a quoted value opens on this line and is never closed/);
    expect((await rawRows(lake)).map((r) => [r.symbol, r._line])).toEqual([
      ["A", "2"],
      ["H", "9"],
    ]);
  });
});

describe("the dataset's types", () => {
  it("refuses a file that would change a column's type, keeping the current version", async () => {
    const { lake, landing } = await landed("symbol,date,price\nA,Jan 1 2000,1.5\n");
    await ingestCsv(lake, landing, SPEC);
    const second = await landed("symbol,date,price\nB,Jan 2 2000,2.5\n", lake);
    const asDouble: CsvIngestSpec = {
      ...SPEC,
      columns: SPEC.columns.map((c) => (c.name === "price" ? { ...c, type: "DOUBLE" } : c)),
    };
    const error = await ingestCsv(lake, second.landing, asDouble).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(
      /does not fit raw\/quotes: price DECIMAL\(18,4\) -> DOUBLE; ingest it with the dataset's column types, or into a new dataset/,
    );
    expect(await listVersionNumbers(lake.storage, "raw", "quotes")).toEqual([1]);
    // The dataset's only landing read again with other types replaces it: nothing is mixed.
    const replaced = await ingestCsv(lake, landing, asDouble);
    expect(replaced.manifest.schema.find((c) => c.name === "price")?.type).toBe("DOUBLE");
    expect(replaced.manifest.files).toHaveLength(1);
  });

  it("ingests the same bytes again when the spec changed, and only then", async () => {
    const { lake, landing } = await landed("symbol,date,price\nA,Jan 1 2000,1.5\n,Jan 2 2000,2\n");
    const first = await ingestCsv(lake, landing, SPEC);
    expect(first).toMatchObject({ created: true, rejected: 1 });
    const again = await ingestCsv(lake, landing, SPEC);
    expect(again.created).toBe(false);
    const optionalSymbol: CsvIngestSpec = {
      ...SPEC,
      columns: SPEC.columns.map((c) => (c.name === "symbol" ? { ...c, nullable: true } : c)),
    };
    const changed = await ingestCsv(lake, landing, optionalSymbol);
    expect(changed).toMatchObject({ created: true, rejected: 0 });
    expect(changed.manifest.version).toBe(2);
    expect(changed.manifest.rowCount).toBe(2);
    expect(changed.manifest.files).toHaveLength(1);
  });
});
