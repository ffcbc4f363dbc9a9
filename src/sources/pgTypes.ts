/**
 * PostgreSQL -> DuckDB column types. Values travel as PostgreSQL's text output (the pg client's
 * parsers are bypassed, so no value passes through a JavaScript number or Date) and are cast by
 * DuckDB, which keeps them exact:
 *
 * - numeric(p,s) -> DECIMAL(p,s) when p <= 38; numeric without a declared precision, or wider
 *   than DuckDB's 38 digits, -> VARCHAR holding the exact digits (a note says so): casting it to
 *   any fixed scale could silently round. Cast in the query (`amount::numeric(18,4)`) to get DECIMAL.
 * - timestamptz -> TIMESTAMPTZ (the session runs in UTC), timestamp -> TIMESTAMP, date -> DATE.
 * - NULL stays NULL for every type.
 */
import { quoteIdentifier } from "../pipeline/index.ts";

export interface PgField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

export interface ColumnMapping {
  name: string;
  /** The PostgreSQL type, for messages. */
  pgType: string;
  duckdbType: string;
  note?: string;
}

const SIMPLE: Record<number, [string, string]> = {
  16: ["boolean", "BOOLEAN"],
  17: ["bytea", "BLOB"],
  18: ["char", "VARCHAR"],
  19: ["name", "VARCHAR"],
  20: ["bigint", "BIGINT"],
  21: ["smallint", "SMALLINT"],
  23: ["integer", "INTEGER"],
  25: ["text", "VARCHAR"],
  26: ["oid", "UBIGINT"],
  114: ["json", "VARCHAR"],
  700: ["real", "FLOAT"],
  701: ["double precision", "DOUBLE"],
  1042: ["character", "VARCHAR"],
  1043: ["character varying", "VARCHAR"],
  1082: ["date", "DATE"],
  1083: ["time", "TIME"],
  1114: ["timestamp", "TIMESTAMP"],
  1184: ["timestamptz", "TIMESTAMPTZ"],
  1186: ["interval", "INTERVAL"],
  2950: ["uuid", "UUID"],
  3802: ["jsonb", "VARCHAR"],
};

const NUMERIC = 1700;

export function mapColumn(field: PgField): ColumnMapping {
  if (field.dataTypeID === NUMERIC) {
    if (field.dataTypeModifier < 4) {
      return {
        name: field.name,
        pgType: "numeric",
        duckdbType: "VARCHAR",
        note: `'${field.name}' is numeric without precision: kept as exact text (VARCHAR); cast it in the query, e.g. ${field.name}::numeric(18,4), to get DECIMAL`,
      };
    }
    const precision = ((field.dataTypeModifier - 4) >> 16) & 0xffff;
    const scale = (field.dataTypeModifier - 4) & 0xffff;
    if (precision > 38) {
      return {
        name: field.name,
        pgType: `numeric(${precision},${scale})`,
        duckdbType: "VARCHAR",
        note: `'${field.name}' is numeric(${precision},${scale}), wider than DuckDB's DECIMAL(38): kept as exact text (VARCHAR)`,
      };
    }
    return {
      name: field.name,
      pgType: `numeric(${precision},${scale})`,
      duckdbType: `DECIMAL(${precision},${scale})`,
    };
  }
  const simple = SIMPLE[field.dataTypeID];
  if (simple) return { name: field.name, pgType: simple[0], duckdbType: simple[1] };
  return {
    name: field.name,
    pgType: `type oid ${field.dataTypeID}`,
    duckdbType: "VARCHAR",
    note: `'${field.name}' has a type without a DuckDB mapping (oid ${field.dataTypeID}): kept as PostgreSQL's text form`,
  };
}

/** The DuckDB expression that turns the text column `source` into the mapped type. */
export function castExpression(column: ColumnMapping, source: string): string {
  const input = quoteIdentifier(source);
  if (column.duckdbType === "VARCHAR") return input;
  // bytea's text form is \x followed by hex digits.
  if (column.duckdbType === "BLOB") return `unhex(substr(${input}, 3))`;
  if (column.duckdbType === "BOOLEAN") return `(${input} = 't')`;
  return `CAST(${input} AS ${column.duckdbType})`;
}
