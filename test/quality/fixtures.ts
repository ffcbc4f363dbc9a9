import { join } from "node:path";
import {
  type Lake,
  type Manifest,
  type VersionedZone,
  commitVersion,
  createLake,
  joinKey,
  maybeHead,
  newWriteId,
} from "../../src/lake/index.ts";
import { withDb, writeParquet } from "../../src/pipeline/index.ts";

export async function tempLake(dir: string): Promise<Lake> {
  return createLake({ lakeDir: join(dir, "lake") });
}

/** Commits the rows of `sql` as the next version of a dataset (what a source or ingest would do). */
export async function commitRows(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  sql: string,
): Promise<Manifest> {
  const head = await maybeHead(lake.storage, zone, dataset);
  const writeId = newWriteId();
  const key = joinKey(zone, dataset, "data", writeId, "part-0.parquet");
  const scratch = await lake.scratch();
  try {
    const { file, schema } = await withDb(async (db) => {
      const schema = await db.columns(`(${sql})`);
      return { schema, file: await writeParquet(db, lake, scratch, sql, key) };
    });
    return await commitVersion(
      lake.storage,
      zone,
      {
        zone,
        dataset,
        writeId,
        schema,
        rowCount: file.rows,
        bytes: file.size,
        files: [file],
        rejects: { count: 0, key: null },
        lineage: { inputs: [], landing: [] },
        sourceRun: null,
        quality: null,
      },
      { expectedParent: head?.version ?? null },
    );
  } finally {
    await lake.releaseScratch(scratch);
  }
}

/** 100 clean rows: every expectation of `PLANTED_SUITE` passes on them. */
export const CLEAN_ROWS = `
  SELECT 'clean' AS tag,
    CAST(i AS INTEGER) AS id,
    ['AAA', 'BBB', 'CCC'][i % 3 + 1] AS ticker,
    CAST(DATE '2024-01-01' + CAST(i AS INTEGER) AS DATE) AS date,
    CAST(10 + i AS DECIMAL(18,4)) AS close,
    'X' || lpad(CAST(i AS VARCHAR), 3, '0') AS code,
    'NYSE' AS exchange,
    CAST(i * 10 AS BIGINT) AS volume
  FROM range(1, 101) t(i)`;

/** One planted defect per row-level expectation (two rows for each uniqueness defect). */
export const PLANTED = {
  null_ticker: 1,
  dup_key: 2,
  dup_id: 2,
  negative_close: 1,
  date_out: 1,
  bad_ticker: 1,
  bad_code: 1,
  bad_exchange: 1,
  negative_volume: 1,
} as const;

export const PLANTED_ROWS = `
  ${CLEAN_ROWS}
  UNION ALL SELECT * FROM (VALUES
    ('null_ticker',     201,  NULL,  DATE '2023-01-01', 12.5, 'X201', 'NYSE', 5),
    ('dup_key',         202,  'AAA', DATE '2023-06-01', 12.5, 'X202', 'NYSE', 5),
    ('dup_key',         203,  'AAA', DATE '2023-06-01', 12.5, 'X203', 'NYSE', 5),
    ('dup_id',          1000, 'BBB', DATE '2023-02-01', 12.5, 'X204', 'NYSE', 5),
    ('dup_id',          1000, 'BBB', DATE '2023-02-02', 12.5, 'X205', 'NYSE', 5),
    ('negative_close',  206,  'CCC', DATE '2023-02-03', -5,   'X206', 'NYSE', 5),
    ('date_out',        207,  'CCC', DATE '2031-01-01', 12.5, 'X207', 'NYSE', 5),
    ('bad_ticker',      208,  'ZZZ', DATE '2023-02-04', 12.5, 'X208', 'NYSE', 5),
    ('bad_code',        209,  'AAA', DATE '2023-02-05', 12.5, 'Y12',  'NYSE', 5),
    ('bad_exchange',    210,  'AAA', DATE '2023-02-06', 12.5, 'X210', 'MOON', 5),
    ('negative_volume', 211,  'AAA', DATE '2023-02-07', 12.5, 'X211', 'NYSE', -1)
  ) v(tag, id, ticker, date, close, code, exchange, volume)`;

export const EXCHANGES = `SELECT * FROM (VALUES ('NYSE'), ('NASDAQ')) v(exchange)`;

/** The planted-defects suite in YAML: each row-level expectation catches one `PLANTED` tag. */
export const PLANTED_SUITE_YAML = `zone: raw
dataset: trades
expectations:
  - id: ticker_present
    type: not_null
    column: ticker
  - id: one_row_per_ticker_day
    type: unique
    columns: [ticker, date]
  - id: id_unique
    type: unique
    columns: [id]
  - id: close_positive
    type: between
    column: close
    min: 0.0001
    max: 100000
  - id: date_in_range
    type: between
    column: date
    min: "2020-01-01"
    max: "2026-12-31"
  - id: ticker_known
    type: in_set
    column: ticker
    values: [AAA, BBB, CCC]
  - id: code_format
    type: matches_regex
    column: code
    pattern: "^X[0-9]{3}$"
  - id: exchange_exists
    type: referential
    column: exchange
    to: { zone: curated, dataset: exchanges }
  - id: volume_not_negative
    type: sql
    predicate: volume >= 0
`;

/** Which planted tag each row-level expectation of PLANTED_SUITE_YAML must catch. */
export const CAUGHT_BY: Record<string, keyof typeof PLANTED> = {
  ticker_present: "null_ticker",
  one_row_per_ticker_day: "dup_key",
  id_unique: "dup_id",
  close_positive: "negative_close",
  date_in_range: "date_out",
  ticker_known: "bad_ticker",
  code_format: "bad_code",
  exchange_exists: "bad_exchange",
  volume_not_negative: "negative_volume",
};
