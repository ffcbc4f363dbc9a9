/**
 * Whole-dataset downloads (`GET /api/datasets/:zone/:dataset/download`) against a real lake,
 * PostgreSQL store and DuckDB: CSV and Parquet hold every row of the version asked for (read
 * back with DuckDB), an older version can be named, the file is exported once per version, and a
 * reader without access to the dataset or its zone gets the answer a missing dataset gets.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { normalizeConfig } from "../../src/config.ts";
import { createLake } from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { commitRows } from "../quality/fixtures.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let dir: string;
let db: TestStore;
let server: RunningServer;
let finn: Session;
let vera: Session;

const PRICES = (close: number) => `
  SELECT ['AAA', 'B,"B'][i % 2 + 1] AS ticker, CAST(DATE '2024-01-01' + CAST(i AS INTEGER) AS DATE) AS date,
    CAST(${close} + i / 8 AS DECIMAL(18,4)) AS close
  FROM range(0, 500) t(i)`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-download-"));
  const config = normalizeConfig({ root: dir, lakeDir: "lake", siteDir: "site", port: 0 });
  const lake = createLake(config);
  await commitRows(lake, "curated", "prices", PRICES(10));
  await commitRows(lake, "curated", "prices", PRICES(100));
  await commitRows(lake, "curated", "sales", "SELECT 'secret' AS customer, 42 AS amount");
  await commitRows(lake, "staging", "quotes", "SELECT 1 AS id");
  db = await openTestStore();
  await db.store.setAccessRule({ path: "/lake/curated/sales/", groups: ["finance"] });
  await addUser(db.store, "finn", "viewer", ["finance"]);
  await addUser(db.store, "vera", "viewer");
  server = await startServer(config, { logger: silentLogger, store: db.store, schedules: false });
  [finn, vera] = await Promise.all([login(server.url, "finn"), login(server.url, "vera")]);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const download = (session: Session | undefined, path: string) =>
  fetch(`${server.url}/api/datasets/${path}`, as(session));

/** Rows of a downloaded file, read back by DuckDB in Node, as sorted text lines. */
async function rowsOf(bytes: Buffer, format: "csv" | "parquet"): Promise<string[]> {
  const file = join(dir, `read-back.${format}`);
  await writeFile(file, bytes);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = format === "csv" ? `read_csv('${file}', header = true)` : `read_parquet('${file}')`;
    const result = await connection.runAndReadAll(
      `SELECT ticker || '|' || CAST(date AS VARCHAR) || '|' || CAST(CAST(close AS DECIMAL(18,4)) AS VARCHAR) AS line FROM ${reader} ORDER BY line`,
    );
    return result.getRowObjectsJS().map((row) => String(row.line));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function expected(close: number): Promise<string[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const result = await connection.runAndReadAll(
      `SELECT ticker || '|' || CAST(date AS VARCHAR) || '|' || CAST(close AS VARCHAR) AS line FROM (${PRICES(close)}) ORDER BY line`,
    );
    return result.getRowObjectsJS().map((row) => String(row.line));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe("whole-dataset downloads", () => {
  it.each(["csv", "parquet"] as const)("%s holds every row of the current version", async (format) => {
    const response = await download(vera, `curated/prices/download?format=${format}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-lakebook-version")).toBe("2");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="curated-prices-v2.${format}"`,
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    if (format === "parquet") expect(bytes.subarray(0, 4).toString("latin1")).toBe("PAR1");
    else expect(bytes.toString("utf8").split("\n")[0]).toBe("ticker,date,close");
    const rows = await rowsOf(bytes, format);
    expect(rows).toHaveLength(500);
    expect(rows).toEqual(await expected(100));
  });

  it("serves an older version when asked, exported once per version", async () => {
    const first = await download(vera, "curated/prices/download?format=parquet&version=1");
    expect(first.status).toBe(200);
    expect(await rowsOf(Buffer.from(await first.arrayBuffer()), "parquet")).toEqual(await expected(10));
    const again = await download(vera, "curated/prices/download?format=parquet&version=1");
    expect(again.headers.get("etag")).toBe(first.headers.get("etag"));
    const exported = await readdir(join(dir, "lake/.cache/downloads/curated/prices"));
    expect(exported.sort()).toEqual(["1.parquet", "2.csv", "2.parquet"]);
  });

  it("gives readers without access the answer a missing dataset gets", async () => {
    const refused = await download(vera, "curated/sales/download?format=csv");
    const missing = await download(vera, "curated/nothing/download?format=csv");
    expect(refused.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "dataset curated/sales not found",
    );
    expect((await download(finn, "curated/sales/download?format=csv")).status).toBe(200);
    // Staging is for analysts and admins; raw is never served.
    expect((await download(finn, "staging/quotes/download?format=csv")).status).toBe(404);
    expect((await download(finn, "raw/quotes/download?format=csv")).status).toBe(404);
    expect((await download(undefined, "curated/prices/download?format=csv")).status).toBe(401);
    expect((await download(vera, "curated/prices/download?format=xlsx")).status).toBe(400);
    expect((await download(vera, "curated/prices/download?format=csv&version=9")).status).toBe(404);
  });
});
