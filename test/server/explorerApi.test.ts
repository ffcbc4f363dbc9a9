/**
 * The explorer's API against a real lake, PostgreSQL store and DuckDB: the dataset list honours
 * zones and access rules, time travel reads an older version, and `POST /api/query` runs only
 * read-only SQL over the datasets the reader may read (and refuses everything else).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { createAccessControl } from "../../server/auth/accessControl.ts";
import { QUERIES_PER_MINUTE } from "../../server/api/queryRoute.ts";
import { DEFAULT_QUERY_LIMITS, startServerQuery } from "../../server/explorer/serverQuery.ts";
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
let ana: Session;

const PRICES = (close: number) => `
  SELECT ['AAA', 'BBB'][i % 2 + 1] AS ticker, CAST(DATE '2024-01-01' + CAST(i AS INTEGER) AS DATE) AS date,
    CAST(${close} + i AS DECIMAL(18,4)) AS close, CAST(i AS BIGINT) AS volume
  FROM range(0, 10) t(i)`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-explorer-api-"));
  const config = normalizeConfig({ root: dir, lakeDir: "lake", siteDir: "site", port: 0 });
  const lake = createLake(config);
  await commitRows(lake, "curated", "prices", PRICES(10));
  await commitRows(lake, "curated", "prices", PRICES(100));
  await commitRows(lake, "curated", "sales", "SELECT 'secret' AS customer, 42 AS amount");
  await commitRows(lake, "staging", "quotes", "SELECT 1 AS id");
  await writeFile(join(dir, "secret.parquet"), "not for readers");
  db = await openTestStore();
  await db.store.setAccessRule({ path: "/lake/curated/sales/", groups: ["finance"] });
  await addUser(db.store, "finn", "viewer", ["finance"]);
  await addUser(db.store, "vera", "viewer");
  await addUser(db.store, "ana", "analyst");
  server = await startServer(config, { logger: silentLogger, store: db.store, schedules: false });
  [finn, vera, ana] = await Promise.all([
    login(server.url, "finn"),
    login(server.url, "vera"),
    login(server.url, "ana"),
  ]);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function datasets(session: Session): Promise<string[]> {
  const response = await fetch(`${server.url}/api/explorer/datasets`, as(session));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { datasets: { zone: string; dataset: string; version: number }[] };
  return body.datasets.map((d) => `${d.zone}.${d.dataset}@${d.version}`);
}

async function query(session: Session, sql: string, pins?: Record<string, number>) {
  const response = await fetch(
    `${server.url}/api/query`,
    as(session, { method: "POST", json: { sql, pins } }),
  );
  if (response.status !== 200)
    return {
      status: response.status,
      error: ((await response.json()) as { error: { message: string } }).error.message,
    };
  const table = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
  return {
    status: 200,
    rows: table.toArray().map((r: { toJSON(): unknown }) => r.toJSON()),
    versions: response.headers.get("x-lakebook-versions"),
  };
}

describe("the explorer's datasets", () => {
  it("lists only what each reader may read, in every zone they may read", async () => {
    expect(await datasets(finn)).toEqual(["curated.prices@2", "curated.sales@1"]);
    expect(await datasets(vera)).toEqual(["curated.prices@2"]);
    expect(await datasets(ana)).toEqual(["curated.prices@2", "staging.quotes@1"]);
  });

  it("serves staging files to analysts only, and a restricted dataset's files to its group only", async () => {
    const [quotes] = (
      await (await fetch(`${server.url}/api/explorer/datasets`, as(ana))).json()
    ).datasets.filter((d: { zone: string }) => d.zone === "staging");
    const url = `${server.url}${quotes.files[0].url}`;
    expect((await fetch(url, as(ana))).status).toBe(200);
    expect((await fetch(url, as(vera))).status).toBe(404);
    const [sales] = (
      await (await fetch(`${server.url}/api/explorer/datasets`, as(finn))).json()
    ).datasets.filter((d: { dataset: string }) => d.dataset === "sales");
    expect((await fetch(`${server.url}${sales.files[0].url}`, as(finn))).status).toBe(200);
    expect((await fetch(`${server.url}${sales.files[0].url}`, as(vera))).status).toBe(403);
  });

  it("describes an older version for time travel, and answers 404 for a dataset the reader may not read", async () => {
    const response = await fetch(`${server.url}/api/explorer/datasets/curated/prices/versions/1`, as(vera));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { version: number }).version).toBe(1);
    expect(
      (await fetch(`${server.url}/api/explorer/datasets/curated/sales/versions/1`, as(vera))).status,
    ).toBe(404);
    expect(
      (await fetch(`${server.url}/api/explorer/datasets/curated/nothing/versions/1`, as(vera))).status,
    ).toBe(404);
  });
});

describe("POST /api/query", () => {
  it("runs SQL over the current version, a pinned version and an explicit version", async () => {
    const current = await query(vera, "SELECT max(close) AS high, count(*) AS n FROM curated.prices");
    expect(current).toMatchObject({
      status: 200,
      rows: [{ high: "109.0000", n: 10 }],
      versions: "curated.prices@2",
    });
    const pinned = await query(vera, "SELECT max(close) AS high FROM prices", { "curated.prices": 1 });
    expect(pinned).toMatchObject({ rows: [{ high: "19.0000" }], versions: "curated.prices@1" });
    const explicit = await query(vera, "SELECT min(date) AS first FROM curated.prices@1");
    expect(explicit).toMatchObject({ rows: [{ first: "2024-01-01" }] });
  });

  it("lets a member of the group query a restricted dataset", async () => {
    expect(await query(finn, "SELECT customer FROM curated.sales")).toMatchObject({
      rows: [{ customer: "secret" }],
    });
  });

  it.each([
    [
      "a dataset the reader may not read",
      "SELECT * FROM curated.sales",
      /no dataset curated.sales that you may read/,
    ],
    ["read_csv of /etc/passwd", "SELECT * FROM read_csv('/etc/passwd')", /Permission Error/],
    [
      "another path in the lake",
      `SELECT * FROM read_parquet('${"lake/curated/sales/**/*.parquet"}')`,
      /Permission Error/,
    ],
    ["a file outside the lake", "SELECT * FROM 'secret.parquet'", /Permission Error/],
    ["ATTACH", "ATTACH '/tmp/lakebook-attack.db' AS x", /only SELECT queries/],
    ["COPY ... TO", "COPY (SELECT 1) TO '/tmp/lakebook-attack.csv'", /Permission Error|only SELECT queries/],
    ["INSTALL", "INSTALL httpfs", /only SELECT queries/],
    ["LOAD", "LOAD parquet", /only SELECT queries/],
    ["a setting", "SET enable_external_access = true", /only SELECT queries/],
    ["two statements", "SELECT 1; SELECT 2", /exactly one SQL statement/],
    ["a network read", "SELECT * FROM 'http://127.0.0.1:9/x.parquet'", /Permission Error/],
  ])("refuses %s", async (_what, sql, message) => {
    const result = await query(vera, sql);
    expect(result.status).toBe(400);
    expect(result.error).toMatch(message);
    expect(existsSync("/tmp/lakebook-attack.csv") || existsSync("/tmp/lakebook-attack.db")).toBe(false);
  });

  it("refuses anonymous readers once access control is on", async () => {
    const response = await fetch(`${server.url}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"sql":"SELECT 1"}',
    });
    expect(response.status).toBe(401);
  });
});

describe("the server's query limits", () => {
  it("cuts a result at the row limit and says it was cut", async () => {
    const config = normalizeConfig({ root: dir, lakeDir: "lake", siteDir: "site" });
    const access = createAccessControl(config, undefined);
    const limits = { ...DEFAULT_QUERY_LIMITS, maxRows: 2500 };
    const started = await startServerQuery(
      config,
      access,
      {},
      { sql: "SELECT range AS i FROM range(100000)" },
      limits,
    );
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on("data", (chunk: Buffer) => chunks.push(chunk));
    const { rows, truncated } = await started.pipe(sink);
    started.close();
    expect({ rows, truncated }).toEqual({ rows: 2500, truncated: true });
    expect(tableFromIPC(Buffer.concat(chunks)).numRows).toBe(2500);
  });

  it("interrupts a query that runs past the time limit", async () => {
    const config = normalizeConfig({ root: dir, lakeDir: "lake", siteDir: "site" });
    const limits = { ...DEFAULT_QUERY_LIMITS, timeoutMs: 200 };
    const slow = "SELECT count(*) FROM range(1000000000) a, range(100) b WHERE a.range * b.range = -1";
    await expect(
      startServerQuery(config, createAccessControl(config, undefined), {}, { sql: slow }, limits),
    ).rejects.toThrow(/longer than the server's limit of 0.2 s/);
  });

  it("rate-limits each reader", async () => {
    // Refused queries count too (they are the cheap way to hammer the server).
    const statuses: number[] = [];
    for (let i = 0; i <= QUERIES_PER_MINUTE; i++)
      statuses.push((await query(ana, "SELECT * FROM curated.nothing")).status);
    expect(statuses.slice(0, QUERIES_PER_MINUTE).every((s) => s === 400)).toBe(true);
    const status = statuses.at(-1);
    expect(status).toBe(429);
    // Another reader is not affected.
    expect((await query(finn, "SELECT 1 AS one")).status).toBe(200);
  });
});
