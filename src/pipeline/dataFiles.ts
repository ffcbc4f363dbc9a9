/**
 * Writing a version's rows as data files: one file (`<zone>/<dataset>/data/<writeId>/part-0.parquet`),
 * or one or more files per partition value (`partition_by`) and at most `fileRows` rows per file
 * (incremental models and compaction, so a later merge rewrites only the files its keys touch).
 *
 * Partition folders are named `<column>-<value>`, encoded so any value is a safe key segment:
 * letters, digits and `-` stay, every other byte of the UTF-8 value is `_XX` (hex), NULL is
 * `_null` and the empty string `_empty`; a segment longer than the lake allows is cut and ends
 * with `_h<hash>`. The partition column also stays inside the file, and the true values are in the
 * manifest's file entries (`partition`): the folder name is only a label. The folders are
 * deliberately not Hive-style (`<column>=<value>`): DuckDB since 1.1 detects such folders by
 * default and replaces the column's value with the folder's text and an inferred type, so a plain
 * `read_parquet` of the manifest's files would read `_2F` for `/`, or the number 1234 for the text
 * `01234`.
 */
import { createHash } from "node:crypto";
import { type DataFile, type Lake, joinKey } from "../lake/index.ts";
import { type Db, quoteIdentifier } from "./duckdb.ts";
import { writeParquet } from "./parquetFile.ts";

export interface DataFileLayout {
  /** Key segments of the write's folder: `[zone, dataset, "data", writeId]`. */
  folder: string[];
  partitionBy?: string[];
  /** At most this many rows per file; one file per partition when omitted. */
  fileRows?: number;
  /** Sort order inside each file. */
  orderBy?: string[];
  rowGroupSize?: number;
  /** Receives each file's key before it is stored, so a failed write can delete what it stored. */
  written?: string[];
}

/** The longest partition folder name (the lake allows 128 characters per key segment). */
const MAX_SEGMENT = 120;

/** The folder name of one partition value (see the module doc). */
export function partitionSegment(column: string, value: string | null): string {
  const encoded = value === null ? "_null" : value === "" ? "_empty" : encodePart(value);
  const segment = `${encodePart(column)}-${encoded}`;
  if (segment.length <= MAX_SEGMENT) return segment;
  const hash = createHash("sha256").update(segment).digest("hex").slice(0, 16);
  // Cut before an escape it would split, so the kept part is still a valid encoding.
  let cut = segment.slice(0, MAX_SEGMENT - 18);
  const escape = cut.lastIndexOf("_");
  if (escape >= cut.length - 2) cut = cut.slice(0, escape);
  return `${cut}_h${hash}`;
}

function encodePart(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(char) ? char : `_${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const OUT = "_lakebook_out";
const PARTS = "_lakebook_parts";
const SLICE = "_lakebook_slice";

/** Writes `query`'s rows with `layout` and returns the files, in partition then row order. */
export async function writeDataFiles(
  db: Db,
  lake: Lake,
  scratch: string,
  query: string,
  layout: DataFileLayout,
): Promise<DataFile[]> {
  const options = { rowGroupSize: layout.rowGroupSize };
  const store = (key: string) => (layout.written?.push(key), key);
  const partitionBy = layout.partitionBy ?? [];
  if (partitionBy.length === 0 && layout.fileRows === undefined)
    return [
      await writeParquet(
        db,
        lake,
        scratch,
        query,
        store(joinKey(...layout.folder, "part-0.parquet")),
        options,
      ),
    ];

  const orderBy = layout.orderBy?.length ? ` ORDER BY ${layout.orderBy.map(quoteIdentifier).join(", ")}` : "";
  // Materialized once: every partition and slice below reads it instead of recomputing the query.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${OUT} AS ${query}`);
  if (partitionBy.length === 0)
    return writeSlices(
      db,
      lake,
      scratch,
      OUT,
      [...layout.folder],
      undefined,
      layout.fileRows!,
      options,
      store,
    );

  const columns = partitionBy.map(quoteIdentifier);
  await db.run(
    `CREATE OR REPLACE TEMP TABLE ${PARTS} AS
       SELECT row_number() OVER () AS _lakebook_part, * FROM (SELECT DISTINCT ${columns.join(", ")} FROM ${OUT})`,
  );
  const values = await db.all(
    `SELECT _lakebook_part, ${columns.map((c, i) => `CAST(${c} AS VARCHAR) AS "v${i}"`).join(", ")}
     FROM ${PARTS} ORDER BY ${columns.join(", ")}`,
  );
  const files: DataFile[] = [];
  for (const row of values) {
    const id = Number(row._lakebook_part);
    const partition: Record<string, string | null> = {};
    partitionBy.forEach((column, i) => {
      const value = row[`v${i}`];
      partition[column] = value === null || value === undefined ? null : String(value);
    });
    const segments = partitionBy.map((column) => partitionSegment(column, partition[column]!));
    const same = columns.map((c) => `_row.${c} IS NOT DISTINCT FROM _part.${c}`).join(" AND ");
    // `id` is a number this function made: no value of the data is ever part of the SQL text.
    const rows = `SELECT _row.* FROM ${OUT} _row SEMI JOIN (SELECT * FROM ${PARTS} WHERE _lakebook_part = ${id}) _part ON ${same}${orderBy}`;
    const folder = [...layout.folder, ...segments];
    if (layout.fileRows === undefined) {
      const key = store(joinKey(...folder, "part-0.parquet"));
      files.push(await writeParquet(db, lake, scratch, rows, key, { ...options, partition }));
      continue;
    }
    await db.run(`CREATE OR REPLACE TEMP TABLE ${SLICE} AS ${rows}`);
    files.push(
      ...(await writeSlices(db, lake, scratch, SLICE, folder, partition, layout.fileRows, options, store)),
    );
  }
  return files;
}

/**
 * Writes a materialized table as files of at most `fileRows` rows each, in the table's order:
 * a table created from a sorted query keeps that order in its row ids.
 */
async function writeSlices(
  db: Db,
  lake: Lake,
  scratch: string,
  table: string,
  folder: string[],
  partition: Record<string, string | null> | undefined,
  fileRows: number,
  options: { rowGroupSize?: number },
  store: (key: string) => string,
): Promise<DataFile[]> {
  const [counted] = await db.all(`SELECT count(*) AS n FROM ${table}`);
  const count = Number(counted?.n ?? 0);
  const files: DataFile[] = [];
  const slices = Math.max(1, Math.ceil(count / fileRows));
  for (let i = 0; i < slices; i++) {
    const rows = `SELECT * FROM ${table} WHERE rowid >= ${i * fileRows} AND rowid < ${(i + 1) * fileRows}`;
    const key = store(joinKey(...folder, `part-${i}.parquet`));
    files.push(
      await writeParquet(db, lake, scratch, rows, key, { ...options, ...(partition && { partition }) }),
    );
  }
  return files;
}
