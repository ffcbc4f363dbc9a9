/**
 * Validation cost against a bare scan: 10 expectations (the suite below) over an N-row Parquet
 * file, against one hand-written `SELECT count(*) ... WHERE` over the same file that looks for
 * the same bad values in one pass (the least work any checker must do), in the same process. Both
 * run once to warm up, then alternately five times each (so load from other processes hits both
 * alike); medians are compared. The last line is `ratio=<validation time / bare scan time>`; the
 * goal is <= 1.5.
 *
 *   npm run bench:quality -- --rows 1000000
 *
 * The data is clean (the gate's common case): failing expectations add one sample query.
 * Uniqueness and referential checks are not in the ten: each is a hash aggregation of its own.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parquetRelation, quoteLiteral, withDb, type Db } from "../src/pipeline/index.ts";
import { defineSuite, expectations as x, validateRelation } from "../src/quality/index.ts";

const { values } = parseArgs({ options: { rows: { type: "string", default: "10000000" } } });
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1)
  throw new Error(`--rows must be a whole number >= 1, got '${values.rows}'`);

const suite = defineSuite({
  zone: "curated",
  dataset: "bench",
  expectations: [
    x.notNull("ticker"),
    x.notNull("date"),
    x.notNull("close"),
    x.between("close", { min: 0.0001, max: 1_000_000 }),
    x.between("date", { min: "1990-01-01", max: "2030-12-31" }),
    x.inSet("ticker", ["AAPL", "AMZN", "GOOG", "IBM", "MSFT", "SPX"]),
    x.matchesRegex("code", "^[A-Z][0-9]+$"),
    x.sql("volume >= 0"),
    x.rowCountBetween({ min: 1 }),
    x.freshness("date", 36_500),
  ],
});
const BARE_WHERE = `ticker IS NULL OR date IS NULL OR close IS NULL OR close <= 0 OR date < DATE '1990-01-01'
  OR date > DATE '2030-12-31' OR close > 1000000
  OR ticker NOT IN ('AAPL', 'AMZN', 'GOOG', 'IBM', 'MSFT', 'SPX') OR NOT regexp_matches(code, '^[A-Z][0-9]+$')
  OR NOT (volume >= 0)`;

/** Runs both once, then alternately `times` times; returns the median time of each. */
async function medians(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  times = 5,
): Promise<[number, number]> {
  await a();
  await b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < times; i++) {
    for (const [run, into] of [
      [a, ta],
      [b, tb],
    ] as const) {
      const started = performance.now();
      await run();
      into.push(performance.now() - started);
    }
  }
  const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  return [median(ta), median(tb)];
}

const dir = await mkdtemp(join(tmpdir(), "lakebook-bench-quality-"));
try {
  const file = join(dir, "bench.parquet");
  await withDb(async (db: Db) => {
    const started = performance.now();
    await db.run(`COPY (
      SELECT i AS id,
        ['AAPL', 'AMZN', 'GOOG', 'IBM', 'MSFT', 'SPX'][i % 6 + 1] AS ticker,
        CAST(DATE '2000-01-01' + CAST(i % 9000 AS INTEGER) AS DATE) AS date,
        CAST(1 + (i % 100000) / 100 AS DECIMAL(18,4)) AS close,
        CAST(i % 1000000 AS BIGINT) AS volume,
        chr(65 + CAST(i % 26 AS INTEGER)) || CAST(i % 100000 AS VARCHAR) AS code
      FROM range(${rows}) t(i)
    ) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
    console.log(
      `wrote ${rows.toLocaleString("en-US")} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });
  const relation = parquetRelation([file]);
  const { bare, validation, status } = await withDb(async (db) => {
    await db.run(`CREATE VIEW bench AS SELECT * FROM ${relation}`);
    const schema = await db.columns("bench");
    let status = "";
    const [validation, bare] = await medians(
      async () => {
        status = (await validateRelation(db, suite, { relation: "bench", schema })).status;
      },
      () => db.all(`SELECT count(*) AS n FROM bench WHERE ${BARE_WHERE}`),
    );
    return { bare, validation, status };
  });
  console.log(
    `validation (${suite.expectations.length} expectations, status ${status}): ${validation.toFixed(1)} ms`,
  );
  console.log(`bare scan (SELECT count(*) ... WHERE <any value bad>): ${bare.toFixed(1)} ms`);
  console.log(`ratio=${(validation / bare).toFixed(3)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
