/**
 * Concurrent writers at scale: WRITERS `lakebook ingest` processes (default 8) of different
 * files into one raw dataset, started together. Every one must exit 0, the final version must
 * hold every row of every file exactly once, each version's parent the one before, and no
 * losing attempt may leave a file behind.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectGarbage, createLake, listVersionNumbers, readManifest } from "../../src/lake/index.ts";
import { parquetRelation, withDb } from "../../src/pipeline/index.ts";
import {
  STOCK_COLUMNS,
  assertLakeIntact,
  assertShowVerifies,
  lakeEnv,
  report,
  runChild,
  writePriceCsv,
} from "../helpers/faults.ts";

const WRITERS = Number(process.env.LAKEBOOK_FAULT_WRITERS ?? 8);
const ROWS = Number(process.env.LAKEBOOK_FAULT_WRITER_ROWS ?? 200_000);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-faults-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("concurrent writers", () => {
  it(`${WRITERS} parallel lakebook ingest runs into one dataset all commit, every row exactly once`, async () => {
    const lakeDir = join(dir, "lake");
    const env = lakeEnv(lakeDir);
    const files = await Promise.all(
      Array.from({ length: WRITERS }, async (_, i) => {
        const path = join(dir, `writer-${i}.csv`);
        // Variant i: the same keys with prices of their own, so every file's rows are distinct.
        await writePriceCsv(path, ROWS + i, i + 1);
        return path;
      }),
    );
    const started = Date.now();
    const runs = await Promise.all(
      files.map((csv) =>
        runChild(
          ["ingest", csv, "--source", "feed", "--dataset", "quotes", "--columns", STOCK_COLUMNS, "--json"],
          {
            env,
          },
        ),
      ),
    );
    report(
      `${WRITERS} concurrent ingests of ~${ROWS} rows: exit codes ${runs.map((r) => r.code).join(",")} in ${Date.now() - started} ms`,
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);

    const lake = createLake({ lakeDir });
    const versions = await listVersionNumbers(lake.storage, "raw", "quotes");
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    for (const version of versions) {
      expect((await readManifest(lake.storage, "raw", "quotes", version)).parent).toBe(
        version === 1 ? null : version - 1,
      );
    }
    const head = await readManifest(lake.storage, "raw", "quotes", WRITERS);
    const expected = WRITERS * ROWS + (WRITERS * (WRITERS - 1)) / 2;
    expect(head.rowCount).toBe(expected);
    expect(head.lineage.landing).toHaveLength(WRITERS);
    const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
    const [counted] = await withDb((db) =>
      db.all(`SELECT count(*) AS rows, count(DISTINCT (_landing_sha256, _line)) AS distinct_rows
              FROM ${parquetRelation(paths)}`),
    );
    expect([Number(counted?.rows), Number(counted?.distinct_rows)]).toEqual([expected, expected]);
    await assertShowVerifies(env, "raw/quotes");
    const verified = await assertLakeIntact(lake);
    expect((await collectGarbage(lake, { graceMs: 0 })).candidates).toEqual([]);
    report(
      `concurrent writers: versions 1..${WRITERS} each on its parent, ${expected} rows each once, ${verified} version(s) verified, no orphan file`,
    );
  });
});
