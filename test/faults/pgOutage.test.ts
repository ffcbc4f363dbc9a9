/**
 * PostgreSQL dropped mid-request: a PostgreSQL source streams a large query through a loopback
 * TCP proxy that cuts the connection once a few megabytes have passed. The run must fail with a
 * clear SourceError, be recorded as failed, and land nothing; once the network is back the
 * rerun lands the whole result exactly once.
 */
import pg from "pg";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../src/errors.ts";
import { collectGarbage, createLake, listLanded } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import { listRuns, runPostgresSource } from "../../src/sources/index.ts";
import { report } from "../helpers/faults.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";
import { type TcpProxy, startTcpProxy } from "./tcpProxy.ts";

const ROWS = Number(process.env.LAKEBOOK_FAULT_PG_ROWS ?? 1_000_000);
let dir: string;
let proxy: TcpProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-faults-"));
  const url = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});
afterAll(async () => {
  await proxy.close();
  await rm(dir, { recursive: true, force: true });
});

describe("PostgreSQL dropped mid-request", () => {
  it("fails the source run cleanly, lands nothing, and the rerun lands the whole result once", async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const lake = createLake({ lakeDir: join(dir, "lake") });
    const spec = {
      source: "pg_outage",
      connectionString: url.toString(),
      query: `SELECT i AS id, md5(i::text) AS payload, (i * 0.01)::numeric(18,4) AS amount
              FROM generate_series(1, $1::integer) AS i`,
      params: [ROWS],
    };

    proxy.dropAfter(4 * 1024 * 1024);
    const error = await runPostgresSource({ lake }, spec).catch((e: unknown) => e);
    report(`query of ${ROWS} rows cut after 4 MiB: ${(error as Error).message}`);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(
      /lost the connection to PostgreSQL at .* after \d+ rows \(ECONNRESET\): nothing was landed/,
    );
    expect(await listLanded(lake.storage, "pg_outage")).toEqual([]);
    const runs = await listRuns(lake.storage, "pg_outage");
    expect(runs.map((r) => r.status)).toEqual(["failed"]);

    // A server-side view: the cut connection's backend is gone, nothing is left running.
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      for (let i = 0; i < 50; i++) {
        const { rows } = await client.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'lakebook' AND query LIKE '%generate_series%'",
        );
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await client.end();
    }

    proxy.dropAfter(undefined);
    const result = await runPostgresSource({ lake }, spec);
    expect(result).toMatchObject({ rows: ROWS, created: true });
    const path = await lake.storage.localPath(result.key!);
    const [counted] = await withDb((db) =>
      db.all(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM ${parquetRelation([path])}`),
    );
    expect([Number(counted?.n), Number(counted?.ids)]).toEqual([ROWS, ROWS]);
    expect(await listLanded(lake.storage, "pg_outage")).toHaveLength(1);
    expect((await runPostgresSource({ lake }, spec)).created).toBe(false);
    expect((await listRuns(lake.storage, "pg_outage")).map((r) => r.status)).toEqual([
      "failed",
      "succeeded",
      "succeeded",
    ]);
    const gc = await collectGarbage(lake, { graceMs: 0 });
    expect(gc.candidates.filter((c) => c.where === "store")).toEqual([]);
    report(
      `PostgreSQL outage: run failed and recorded, nothing landed; after recovery ${ROWS} rows landed once (${proxy.connections()} proxied connections), rerun unchanged`,
    );
  });
});
