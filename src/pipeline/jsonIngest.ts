/**
 * Landing -> raw for JSON: NDJSON files, JSON arrays, API pages (records at `itemsPath`), and rows
 * a source extracted (HTML tables). Records are scanned with their line numbers and exact value
 * text (jsonRecords.ts), written to a scratch file of text values, and converted by DuckDB to the
 * declared column types; a record that is not an object, is not valid JSON (NDJSON) or has a
 * value that does not convert is rejected with its line number. Without declared columns every
 * field is kept as nullable VARCHAR, named after the keys in the order they first appear.
 */
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DataError } from "../errors.ts";
import type { Lake, Provenance } from "../lake/index.ts";
import { type CsvColumn, type IngestOptions, type IngestResult, SOURCE_LINE } from "./csvIngest.ts";
import { quoteIdentifier, quoteLiteral } from "./duckdb.ts";
import { type JsonRecord, documentRecords, ndjsonRecords } from "./jsonRecords.ts";
import { type RawLoader, ingestLanding } from "./rawIngest.ts";
import { typedSelect } from "./typedColumns.ts";

export interface JsonIngestSpec {
  /** The raw dataset. */
  dataset: string;
  /** Declared columns and their exact types; every field as VARCHAR when omitted. */
  columns?: CsvColumn[];
  /** `json` (an array, or a document with `itemsPath`; one record per line is detected) or `ndjson`. */
  format?: "json" | "ndjson";
  /** Where the records are in a JSON document, e.g. `data`. */
  itemsPath?: string;
}

export async function ingestJson(
  lake: Lake,
  landing: Provenance,
  spec: JsonIngestSpec,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const load: RawLoader = async (db, input) => {
    const records = await readRecords(input.path, landing.key, spec);
    await loadRecords(db, records, spec.columns, input);
  };
  return ingestLanding(lake, landing, spec.dataset, load, options);
}

/** Rows a source extracted from the landed bytes (e.g. an HTML table), numbered from 1. */
export async function ingestRows(
  lake: Lake,
  landing: Provenance,
  spec: { dataset: string; columns?: CsvColumn[] },
  extract: (bytes: Buffer) => Record<string, string | null>[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const load: RawLoader = async (db, input) => {
    const rows = extract(await readFile(input.path));
    await loadRecords(
      db,
      rows.map((fields, i) => ({ line: i + 1, fields })),
      spec.columns,
      input,
    );
  };
  return ingestLanding(lake, landing, spec.dataset, load, options);
}

async function readRecords(
  path: string,
  key: string,
  spec: JsonIngestSpec,
): Promise<Iterable<JsonRecord> | AsyncIterable<JsonRecord>> {
  if (spec.format === "ndjson") return ndjsonRecords(path);
  const text = (await readFile(path)).toString("utf8");
  if (text.includes("\0")) throw new DataError(`${key} is not a text file (it contains NUL bytes)`);
  const records = documentRecords(text, key, spec.itemsPath ?? "");
  if (records === undefined && spec.itemsPath) throw new DataError(`${key} holds more than one JSON value`);
  return records ?? ndjsonRecords(path);
}

/** Writes the records' text values to a scratch NDJSON file and defines the view `typed` over it. */
async function loadRecords(
  db: Parameters<RawLoader>[0],
  records: Iterable<JsonRecord> | AsyncIterable<JsonRecord>,
  declared: CsvColumn[] | undefined,
  input: Parameters<RawLoader>[1],
): Promise<void> {
  await mkdir(input.scratch, { recursive: true });
  const scratchPath = join(input.scratch, "records.ndjson");
  const index = new Map<string, number>(declared?.map((c, i) => [c.name, i]));
  const handle = await open(scratchPath, "w");
  let count = 0;
  try {
    let batch = "";
    for await (const record of records) {
      count++;
      const row: Record<string, unknown> = { _line: record.line, _error: record.error ?? null };
      for (const [name, text] of Object.entries(record.fields ?? {})) {
        let i = index.get(name);
        if (i === undefined) {
          if (declared) continue;
          i = index.size;
          index.set(name, i);
        }
        row[`c${i}`] = text;
      }
      batch += JSON.stringify(row) + "\n";
      if (batch.length > 1 << 20) {
        await handle.write(batch);
        batch = "";
      }
    }
    await handle.write(batch);
  } finally {
    await handle.close();
  }
  if (count === 0) throw new DataError("the data holds no records; nothing was ingested");
  const columns: CsvColumn[] =
    declared ?? [...index.keys()].map((name) => ({ name, type: "VARCHAR", nullable: true }) as CsvColumn);
  const types = [`_line: 'BIGINT'`, `_error: 'VARCHAR'`, ...columns.map((_c, i) => `c${i}: 'VARCHAR'`)].join(
    ", ",
  );
  const { converted, typed, reason } = typedSelect(columns, (i) => `c${i}`);
  await db.run(
    `CREATE VIEW typed AS
       SELECT ${typed ? `${typed}, ` : ""}${input.lineage}, _line AS ${quoteIdentifier(SOURCE_LINE)},
         CASE WHEN _error IS NOT NULL THEN _error ELSE ${reason} END AS _reason
       FROM (SELECT _line, _error${converted ? `, ${converted}` : ""}
         FROM read_json(${quoteLiteral(scratchPath)}, format = 'newline_delimited', columns = {${types}}))`,
  );
}
