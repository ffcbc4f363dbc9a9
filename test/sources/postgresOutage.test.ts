/**
 * The fast case of test/faults/pgOutage.test.ts: a PostgreSQL connection cut mid-query used to
 * crash the whole process (pg's unhandled 'error' event) or, with that handled, hang forever
 * closing the cursor. The run must fail with a clear message and land nothing.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../src/errors.ts";
import { createLake, listLanded } from "../../src/lake/index.ts";
import { listRuns, runPostgresSource } from "../../src/sources/index.ts";
import { type TcpProxy, startTcpProxy } from "../faults/tcpProxy.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
let proxy: TcpProxy;

beforeAll(async () => {
  const url = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});
afterAll(async () => {
  await proxy.close();
});

describe("PostgreSQL source, connection cut mid-query", () => {
  it("fails the run with a clear message and lands nothing", async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    proxy.dropAfter(256 * 1024);
    const error = await runPostgresSource(
      { lake },
      {
        source: "pg_cut",
        connectionString: url.toString(),
        query: "SELECT i, md5(i::text) AS payload FROM generate_series(1, 100000) AS i",
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/lost the connection to PostgreSQL .* nothing was landed/);
    expect(await listLanded(lake.storage, "pg_cut")).toEqual([]);
    expect((await listRuns(lake.storage, "pg_cut")).map((r) => r.status)).toEqual(["failed"]);
  });
});
