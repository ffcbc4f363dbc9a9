/**
 * Text to declared column types, the same rules as CSV ingest: each value is converted once, a
 * value that does not convert (or is empty in a required column) makes its row a reject, and the
 * reason names the column, the text and the expected type. Used by the JSON, HTML and Parquet
 * ingests, whose values arrive as exact text (see jsonRecords.ts).
 */
import type { CsvColumn } from "./csvIngest.ts";
import { quoteIdentifier, quoteLiteral } from "./duckdb.ts";

function typedExpression(column: CsvColumn, value: string): string {
  const format = column.format === undefined ? undefined : quoteLiteral(column.format);
  switch (column.type) {
    case "VARCHAR":
      return value;
    case "DATE":
      return format ? `CAST(try_strptime(${value}, ${format}) AS DATE)` : `TRY_CAST(${value} AS DATE)`;
    case "TIMESTAMPTZ":
      return format
        ? `CAST(try_strptime(${value}, ${format}) AS TIMESTAMPTZ)`
        : `TRY_CAST(${value} AS TIMESTAMPTZ)`;
    default:
      return `TRY_CAST(${value} AS ${column.type})`;
  }
}

export interface TypedSelect {
  /** Inner select list: `_s<i>` (the text) and `_t<i>` (the converted value) per column. */
  converted: string;
  /** Outer select list: the typed columns under their names. */
  typed: string;
  /** NULL for a good row, else why it was rejected. */
  reason: string;
}

/** `text(i)` is the SQL expression of column i's text in the input relation. */
export function typedSelect(columns: CsvColumn[], text: (index: number) => string): TypedSelect {
  const converted = columns
    .map((c, i) => `${text(i)} AS _s${i}, ${typedExpression(c, `${text(i)}`)} AS _t${i}`)
    .join(", ");
  const typed = columns.map((c, i) => `_t${i} AS ${quoteIdentifier(c.name)}`).join(", ");
  const failed = columns.map((c, i) => {
    const empty = `(_s${i} IS NULL OR trim(_s${i}) = '')`;
    if (c.type === "VARCHAR") return c.nullable ? "false" : empty;
    return c.nullable ? `(_t${i} IS NULL AND NOT ${empty})` : `_t${i} IS NULL`;
  });
  const reasons = columns
    .map(
      (c, i) =>
        `CASE WHEN ${failed[i]} THEN ${quoteLiteral(`column '${c.name}': `)} || coalesce(chr(39) || _s${i} || chr(39), 'empty') || ${quoteLiteral(` is not a valid ${c.type}${c.format ? ` (format ${c.format})` : ""}`)} END`,
    )
    .join(", ");
  const reason =
    columns.length === 0 ? "NULL" : `CASE WHEN ${failed.join(" OR ")} THEN concat_ws('; ', ${reasons}) END`;
  return { converted, typed, reason };
}
