/**
 * DuckDB (Node) result chunks to an Arrow IPC stream for the browser. Types the explorer shows
 * exactly travel as text with their DuckDB type in the field metadata (`lakebook.type`):
 * DECIMAL stays exact ("25.9400", as the browser path renders it), DATE is "YYYY-MM-DD" and
 * timestamps ISO 8601 in UTC. Numbers are Float64 (BIGINT included, as DuckDB-WASM's
 * castBigIntToDouble does in the browser), booleans Bool, everything else text.
 */
import type { Writable } from "node:stream";
import type * as ArrowTypes from "../../node_modules/apache-arrow/Arrow.node.d.ts";
// Typed by path: apache-arrow 11's "exports" hide its typings from NodeNext (see apacheArrow.d.ts).
import * as arrowModule from "apache-arrow";
import { DuckDBTypeId, type DuckDBDataChunk, type DuckDBType, type DuckDBValue } from "@duckdb/node-api";

const arrow = arrowModule as unknown as typeof ArrowTypes;
const { Bool, Field, Float64, Int32, RecordBatch, RecordBatchStreamWriter, Schema, Struct, Utf8 } = arrow;
const { makeData, vectorFromArray } = arrow;
type DataType = ArrowTypes.DataType;
type Field = ArrowTypes.Field;

type Convert = (value: DuckDBValue) => unknown;

interface Column {
  field: Field;
  type: DataType;
  convert: Convert;
}

const INT32 = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
]);
const FLOAT = new Set([
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
]);
const TIMESTAMPS = new Set([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
]);

function columnFor(name: string, duckType: DuckDBType): Column {
  const id = duckType.typeId;
  const metadata = new Map([["lakebook.type", duckType.toString()]]);
  let type: DataType;
  let convert: Convert;
  if (id === DuckDBTypeId.BOOLEAN) [type, convert] = [new Bool(), (v) => v];
  else if (INT32.has(id)) [type, convert] = [new Int32(), (v) => v];
  else if (FLOAT.has(id)) [type, convert] = [new Float64(), (v) => Number(v)];
  else if (TIMESTAMPS.has(id)) [type, convert] = [new Utf8(), (v) => isoTimestamp(String(v))];
  else if (id === DuckDBTypeId.VARCHAR) [type, convert] = [new Utf8(), (v) => v];
  else [type, convert] = [new Utf8(), (v) => String(v)];
  return { field: new Field(name, type, true, metadata), type, convert };
}

/** DuckDB renders "2010-03-01 00:00:00+00" (or without a zone); the browser shows ISO in UTC. */
function isoTimestamp(text: string): string {
  const parsed = new Date(text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
  return Number.isNaN(parsed.getTime()) ? text : parsed.toISOString();
}

export interface ArrowResultWriter {
  /** Writes up to `limit` rows of a chunk; returns the rows written. */
  write(chunk: DuckDBDataChunk, limit: number): number;
  finish(): Promise<void>;
}

export function createArrowResultWriter(
  names: readonly string[],
  types: readonly DuckDBType[],
  out: Writable,
): ArrowResultWriter {
  const columns = names.map((name, i) => columnFor(name, types[i]!));
  const schema = new Schema(columns.map((c) => c.field));
  const struct = new Struct(columns.map((c) => c.field));
  const writer = new RecordBatchStreamWriter();
  const stream = writer.toNodeStream();
  const done = new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  stream.pipe(out);
  let wroteSchema = false;
  return {
    write(chunk, limit) {
      const length = Math.min(chunk.rowCount, limit);
      if (length <= 0) return 0;
      const children = columns.map((column, j) => {
        const raw = chunk.getColumnValues(j).slice(0, length);
        const values = raw.map((v) => (v === null ? null : column.convert(v)));
        return vectorFromArray(values, column.type).data[0]!;
      });
      writer.write(new RecordBatch(schema, makeData({ type: struct, length, nullCount: 0, children })));
      wroteSchema = true;
      return length;
    },
    async finish() {
      // An empty result still carries its columns: an empty batch writes the schema.
      if (!wroteSchema) {
        const children = columns.map((column) => vectorFromArray([], column.type).data[0]!);
        writer.write(new RecordBatch(schema, makeData({ type: struct, length: 0, nullCount: 0, children })));
      }
      writer.finish();
      await done;
    },
  };
}
