import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../src/errors.ts";
import { createLake, listVersionNumbers, maybeHead } from "../../src/lake/index.ts";
import { type CsvIngestSpec, ingestCsv, parquetRelation, withDb } from "../../src/pipeline/index.ts";
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

async function setup(csv: string | Buffer) {
  const dir = await tempDir();
  const lake = createLake({ lakeDir: join(dir, "lake") });
  const path = join(dir, "input.csv");
  await writeFile(path, csv);
  const landing = await landFile(lake.storage, { source: "test", path });
  return { lake, landing: landing.record };
}

async function readRaw(lake: ReturnType<typeof createLake>) {
  const head = await maybeHead(lake.storage, "raw", "quotes");
  const paths = await Promise.all(head!.files.map((f) => lake.storage.localPath(f.key)));
  return withDb((db) =>
    db.all(
      `SELECT symbol, CAST(date AS VARCHAR) AS date, price, typeof(price) AS price_type, typeof(date) AS date_type, _line
       FROM ${parquetRelation(paths)} ORDER BY _line`,
    ),
  );
}

describe("CSV ingest (landing -> raw)", () => {
  it("stores prices as exact DECIMAL and dates as DATE, one row per line", async () => {
    const { lake, landing } = await setup("symbol,date,price\nMSFT,Jan 1 2000,39.81\nMSFT,Feb 1 2000,0.1\n");
    const result = await ingestCsv(lake, landing, SPEC);
    expect(result).toMatchObject({ created: true, rejected: 0 });
    expect(result.manifest.rowCount).toBe(2);
    expect(await readRaw(lake)).toEqual([
      {
        symbol: "MSFT",
        date: "2000-01-01",
        price: "39.8100",
        price_type: "DECIMAL(18,4)",
        date_type: "DATE",
        _line: "2",
      },
      {
        symbol: "MSFT",
        date: "2000-02-01",
        price: "0.1000",
        price_type: "DECIMAL(18,4)",
        date_type: "DATE",
        _line: "3",
      },
    ]);
    expect(result.manifest.files[0]?.partition).toMatchObject({
      source: "test",
      date: landing.fetchedAt.slice(0, 10),
    });
  });

  it("writes malformed rows with their line numbers to a rejects file and keeps the rest", async () => {
    const { lake, landing } = await setup(
      "symbol,date,price\nA,Jan 1 2000,1.5\nB,Jan 2 2000\nC,Foo 3 2000,2\nD,Jan 4 2000,abc\nE,Jan 5 2000,3,4\nF,Jan 6 2000,7\n",
    );
    const result = await ingestCsv(lake, landing, SPEC);
    expect(result.rejected).toBe(4);
    expect(result.manifest.rowCount).toBe(2);
    expect(result.manifest.rowCount + result.rejected).toBe(6);
    const rejects = JSON.parse((await lake.storage.read(result.manifest.rejects.key!)).toString());
    expect(rejects.map((r: { line: number }) => r.line)).toEqual([3, 4, 5, 6]);
    expect(rejects[1].reason).toBe("column 'date': 'Foo 3 2000' is not a valid DATE (format %b %d %Y)");
    expect(rejects[2].reason).toBe("column 'price': 'abc' is not a valid DECIMAL(18,4)");
    expect((await readRaw(lake)).map((r) => [r.symbol, r._line])).toEqual([
      ["A", "2"],
      ["F", "7"],
    ]);
  });

  it("rejects a blank required text value, but keeps text that only starts with a blank", async () => {
    const { lake, landing } = await setup(
      'symbol,date,price\n   ,Jan 1 2000,1.5\n,Jan 2 2000,2\n" B",Jan 3 2000,3\nC,Jan 4 2000,4\n',
    );
    const result = await ingestCsv(lake, landing, SPEC);
    const rejects = JSON.parse((await lake.storage.read(result.manifest.rejects.key!)).toString());
    expect(rejects.map((r: { line: number; reason: string }) => [r.line, r.reason])).toEqual([
      [2, "column 'symbol': '   ' is not a valid VARCHAR"],
      [3, "column 'symbol': empty is not a valid VARCHAR"],
    ]);
    expect((await readRaw(lake)).map((r) => [r.symbol, r._line])).toEqual([
      [" B", "4"],
      ["C", "5"],
    ]);
  });

  it("numbers rows and rejects by their real line in a large file parsed in parallel", async () => {
    const bad = new Map([
      [1_000, "structural"],
      [1_001, "structural"],
      [250_000, "type"],
      [400_000, "structural"],
      [599_999, "type"],
    ]);
    const lines = ["symbol,date,price"];
    for (let line = 2; line <= 600_001; line++) {
      const kind = bad.get(line);
      lines.push(kind === "structural" ? "broken" : `L${line},Jan 1 2000,${kind === "type" ? "abc" : "1.5"}`);
    }
    const { lake, landing } = await setup(lines.join("\n") + "\n");
    const result = await ingestCsv(lake, landing, SPEC);
    expect(result.rejected).toBe(5);
    expect(result.manifest.rowCount).toBe(600_000 - 5);
    const rejects = JSON.parse((await lake.storage.read(result.manifest.rejects.key!)).toString());
    expect(rejects.map((r: { line: number }) => r.line)).toEqual([...bad.keys()]);
    const path = await lake.storage.localPath(result.manifest.files[0]!.key);
    const [check] = await withDb((db) =>
      db.all(`SELECT count(*) FILTER (WHERE symbol <> 'L' || _line) AS wrong,
                     count(*) FILTER (WHERE _line < lag_line) AS unordered
              FROM (SELECT *, lag(_line) OVER () AS lag_line FROM ${parquetRelation([path])})`),
    );
    expect(check).toEqual({ wrong: "0", unordered: "0" });
  });

  it("re-ingesting the same landing adds nothing", async () => {
    const { lake, landing } = await setup("symbol,date,price\nA,Jan 1 2000,1.5\n");
    await ingestCsv(lake, landing, SPEC);
    const again = await ingestCsv(lake, landing, SPEC);
    expect(again.created).toBe(false);
    expect(await listVersionNumbers(lake.storage, "raw", "quotes")).toEqual([1]);
    expect(await readRaw(lake)).toHaveLength(1);
  });

  it.each([
    ["an empty file", "", /is empty/],
    ["a header only", "symbol,date,price\n", /has a header but no data rows/],
    ["a binary file", Buffer.from([0x50, 0x41, 0x52, 0x31, 0, 0, 0, 1, 2, 3]), /not a text file/],
    [
      "wrong columns",
      "ticker,day,price\nA,Jan 1 2000,1\n",
      /missing 'symbol', 'date'; unexpected 'ticker', 'day'/,
    ],
  ])("refuses %s with a clear error and leaves the lake unchanged", async (_what, csv, message) => {
    const { lake, landing } = await setup(csv);
    const error = await ingestCsv(lake, landing, SPEC).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(message);
    expect(await listVersionNumbers(lake.storage, "raw", "quotes")).toEqual([]);
    expect((await lake.storage.list("raw/")).length).toBe(0);
  });
});
