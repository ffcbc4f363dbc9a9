import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listLanded } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import { listRuns, runPostgresSource } from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { addedKeys, lakeListing, newLake } from "./lakeHelpers.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";

const tempDir = useTempDirs();
const DATABASE_URL = TEST_DATABASE_URL;
const TABLE = `lakebook_src_${process.pid}`;
const BIG = `lakebook_src_big_${process.pid}`;

async function sql(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

describe("PostgreSQL source", () => {
  beforeAll(async () => {
    await sql(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql(`CREATE TABLE ${TABLE} (
      id integer PRIMARY KEY, name text, price numeric(18,4), ratio numeric, big numeric(40,2),
      at timestamptz, day date, flag boolean, raw bytea, score double precision)`);
    await sql(`INSERT INTO ${TABLE} VALUES
      (1, 'a', 12345678901234.5678, 0.1234567890123456789, 1234567890123456789012345678901234567.89,
       '2024-01-02 03:04:05.123456+02', '2024-01-02', true, '\\x0001ff', 0.1),
      (2, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 'quote "x", comma\nnewline', -0.0001, 42, 0, '2024-03-01 00:00:00+00', '1999-12-31', false, '', 1e300)`);
  });
  afterAll(async () => {
    await sql(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql(`DROP TABLE IF EXISTS ${BIG}`);
  });

  async function readParquet(lake: Awaited<ReturnType<typeof newLake>>, key: string) {
    const path = await lake.storage.localPath(key);
    return withDb(async (db) => ({
      columns: await db.columns(`SELECT * FROM ${parquetRelation([path])}`),
      rows: await db.all(
        `SELECT id, name, CAST(price AS VARCHAR) AS price, ratio, big, CAST("at" AS VARCHAR) AS "at",
                CAST(day AS VARCHAR) AS day, flag, hex(raw) AS raw, score
         FROM ${parquetRelation([path])} ORDER BY id`,
      ),
    }));
  }

  it("maps types exactly and keeps NULLs and empty strings apart", async () => {
    const lake = await newLake(tempDir);
    const result = await runPostgresSource(
      { lake },
      {
        source: "pg_types",
        connectionString: DATABASE_URL,
        query: `SELECT * FROM ${TABLE} WHERE id <= $1`,
        params: [3],
      },
    );
    expect(result.rows).toBe(3);
    const { columns, rows } = await readParquet(lake, result.key!);
    expect(Object.fromEntries(columns.map((c) => [c.name, c.type]))).toEqual({
      id: "INTEGER",
      name: "VARCHAR",
      price: "DECIMAL(18,4)",
      ratio: "VARCHAR",
      big: "VARCHAR",
      at: "TIMESTAMP WITH TIME ZONE",
      day: "DATE",
      flag: "BOOLEAN",
      raw: "BLOB",
      score: "DOUBLE",
    });
    expect(result.notes.join("\n")).toMatch(/'ratio' is numeric without precision: kept as exact text/);
    expect(rows).toEqual([
      {
        id: 1,
        name: "a",
        price: "12345678901234.5678",
        ratio: "0.1234567890123456789",
        big: "1234567890123456789012345678901234567.89",
        at: "2024-01-02 01:04:05.123456+00",
        day: "2024-01-02",
        flag: true,
        raw: "0001FF",
        score: 0.1,
      },
      {
        id: 2,
        name: "",
        price: null,
        ratio: null,
        big: null,
        at: null,
        day: null,
        flag: null,
        raw: null,
        score: null,
      },
      {
        id: 3,
        name: 'quote "x", comma\nnewline',
        price: "-0.0001",
        ratio: "42",
        big: "0.00",
        at: "2024-03-01 00:00:00+00",
        day: "1999-12-31",
        flag: false,
        raw: "",
        score: 1e300,
      },
    ]);
  });

  it("lands nothing new when the same query returns the same rows", async () => {
    const lake = await newLake(tempDir);
    const spec = {
      source: "pg_same",
      connectionString: DATABASE_URL,
      query: `SELECT * FROM ${TABLE} ORDER BY id`,
    };
    const first = await runPostgresSource({ lake }, spec);
    const second = await runPostgresSource({ lake }, spec);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, key: first.key });
    expect(await listLanded(lake.storage, "pg_same")).toHaveLength(1);
  });

  it("extracts incrementally by a watermark column remembered between runs", async () => {
    const lake = await newLake(tempDir);
    const spec = {
      source: "pg_incr",
      connectionString: DATABASE_URL,
      query: `SELECT id, name, at FROM ${TABLE} WHERE at IS NOT NULL`,
      watermark: { column: "at" },
    };
    const first = await runPostgresSource({ lake }, spec);
    expect(first).toMatchObject({ rows: 2, watermark: "2024-03-01 00:00:00+00" });
    const none = await runPostgresSource({ lake }, spec);
    expect(none).toMatchObject({ rows: 0, created: false });
    expect(none.key).toBeUndefined();
    await sql(`INSERT INTO ${TABLE} (id, name, at) VALUES (4, 'late', '2024-03-01 00:00:00.000001+00')`);
    try {
      const next = await runPostgresSource({ lake }, spec);
      expect(next).toMatchObject({ rows: 1, created: true, watermark: "2024-03-01 00:00:00.000001+00" });
      const { rows } = await withDb(async (db) => ({
        rows: await db.all(`SELECT id FROM ${parquetRelation([await lake.storage.localPath(next.key!)])}`),
      }));
      expect(rows).toEqual([{ id: 4 }]);
    } finally {
      await sql(`DELETE FROM ${TABLE} WHERE id = 4`);
    }
    expect((await listRuns(lake.storage, "pg_incr")).map((run) => run.rows)).toEqual([2, 0, 1]);
  });

  it("marks the run failed with PostgreSQL's message on a query error and changes nothing in the lake", async () => {
    const lake = await newLake(tempDir);
    const ok = {
      source: "pg_err",
      connectionString: DATABASE_URL,
      query: `SELECT id FROM ${TABLE} ORDER BY id`,
    };
    await runPostgresSource({ lake }, ok);
    const before = await lakeListing(lake);
    await expect(
      runPostgresSource({ lake }, { ...ok, query: `SELECT no_such_column FROM ${TABLE}` }),
    ).rejects.toThrow(/rejected the query: column "no_such_column" does not exist \(SQLSTATE 42703/);
    const added = addedKeys(before, await lakeListing(lake));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^landing\/source=pg_err\/_runs\//);
    const runs = await listRuns(lake.storage, "pg_err");
    expect(runs[1]).toMatchObject({ status: "failed", error: { code: "SOURCE" } });
  });

  it("says it cannot connect, without the password, when the server is unreachable", async () => {
    const lake = await newLake(tempDir);
    const error = (await runPostgresSource(
      { lake },
      {
        source: "pg_down",
        connectionString: "postgres://u:pw-123@127.0.0.1:1/test",
        query: "SELECT 1",
        connectTimeoutMs: 2000,
      },
    ).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/cannot connect to PostgreSQL at u:\[redacted\]@127\.0\.0\.1:1\/test/);
    expect(error.message).not.toContain("pw-123");
    expect(JSON.stringify(await listRuns(lake.storage, "pg_down"))).not.toContain("pw-123");
  });

  it("streams 1,000,000 rows into Parquet with peak RSS growth under 200 MB", async () => {
    await sql(`DROP TABLE IF EXISTS ${BIG}`);
    await sql(`CREATE UNLOGGED TABLE ${BIG} AS
      SELECT g AS id, (g * 1.25)::numeric(18,4) AS amount, 'name-' || g AS name,
             timestamptz '2024-01-01' + g * interval '1 second' AS at,
             CASE WHEN g % 10 = 0 THEN NULL ELSE date '2020-01-01' + (g % 1000) END AS day
      FROM generate_series(1, 1000000) g`);
    try {
      const dir = await tempDir();
      const script = fileURLToPath(new URL("./postgresRss.ts", import.meta.url));
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, dir, DATABASE_URL, BIG], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk) => (out += chunk));
        child.on("error", reject);
        child.on("close", (code) =>
          code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${out}`)),
        );
      });
      const report = JSON.parse(output.trim().split("\n").pop()!) as {
        rows: number;
        growthMb: number;
        parquetRows: number;
        seconds: number;
      };
      console.log(`PostgreSQL 1M rows: ${JSON.stringify(report)}`);
      expect(report.rows).toBe(1_000_000);
      expect(report.parquetRows).toBe(1_000_000);
      expect(report.growthMb).toBeLessThan(200);
    } finally {
      await sql(`DROP TABLE IF EXISTS ${BIG}`);
    }
  });
});
