/**
 * Landing -> raw for Parquet (files, and what the PostgreSQL source lands): the file's own column
 * types are kept exactly, or, with declared columns, each column is converted to its declared type
 * and a row whose value does not convert is rejected with its row number (1-based, as `_line`).
 */
import { DataError } from "../errors.ts";
import type { Lake, Provenance } from "../lake/index.ts";
import { type CsvColumn, type IngestOptions, type IngestResult, SOURCE_LINE } from "./csvIngest.ts";
import { quoteIdentifier, quoteLiteral } from "./duckdb.ts";
import { type RawLoader, ingestLanding } from "./rawIngest.ts";
import { typedSelect } from "./typedColumns.ts";

export interface ParquetIngestSpec {
  dataset: string;
  /** Declared columns; the file's own columns and types when omitted. */
  columns?: CsvColumn[];
}

export async function ingestParquet(
  lake: Lake,
  landing: Provenance,
  spec: ParquetIngestSpec,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const load: RawLoader = async (db, input) => {
    const file = `read_parquet(${quoteLiteral(input.path)}, file_row_number = true, hive_partitioning = false)`;
    let found: { name: string }[];
    try {
      found = await db.columns(`(SELECT * FROM ${file})`);
    } catch (error) {
      throw new DataError(
        `${landing.key} is not a readable Parquet file: ${(error as Error).message.split("\n")[0]}`,
        {
          cause: error,
        },
      );
    }
    const line = `CAST(file_row_number + 1 AS BIGINT) AS ${quoteIdentifier(SOURCE_LINE)}`;
    if (!spec.columns) {
      await db.run(`CREATE VIEW typed AS
        SELECT * EXCLUDE (file_row_number), ${input.lineage}, ${line}, CAST(NULL AS VARCHAR) AS _reason FROM ${file}`);
      return;
    }
    const names = new Set(found.map((c) => c.name));
    const missing = spec.columns.filter((c) => !names.has(c.name)).map((c) => `'${c.name}'`);
    if (missing.length > 0) {
      throw new DataError(
        `${landing.key} has no column ${missing.join(", ")} (found: ${[...names].filter((n) => n !== "file_row_number").join(", ")}); fix the source's column list`,
      );
    }
    const columns = spec.columns;
    const { converted, typed, reason } = typedSelect(
      columns,
      (i) => `CAST(${quoteIdentifier(columns[i]!.name)} AS VARCHAR)`,
    );
    await db.run(`CREATE VIEW typed AS
      SELECT ${typed}, ${input.lineage}, ${line}, ${reason} AS _reason
      FROM (SELECT file_row_number, ${converted} FROM ${file})`);
  };
  return ingestLanding(lake, landing, spec.dataset, load, options);
}
