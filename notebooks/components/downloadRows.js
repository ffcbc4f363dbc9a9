/**
 * The rows behind a table or chart as downloads.js writes them: column names and DuckDB types
 * (given, or inferred from the values), and plain values (dates as ISO text, objects as JSON).
 * No imports, so it runs in Node too (test/notebooks/downloadRows.test.ts).
 */
/** Columns with their DuckDB types and rows of plain values, as toCsv/toParquet take them. */
export function prepare(data, columnNames, types = {}) {
  let rows;
  let names = columnNames;
  if (data && typeof data.toArray === "function" && data.schema) {
    names ??= data.schema.fields.map((f) => f.name);
    rows = data.toArray().map((row) => (typeof row.toJSON === "function" ? row.toJSON() : row));
  } else {
    rows = Array.from(data ?? []);
  }
  if (!names) {
    const seen = new Set();
    for (const row of rows) for (const key of Object.keys(row ?? {})) seen.add(key);
    names = [...seen];
  }
  const columns = names.map((name) => ({ name, type: types[name] ?? inferType(rows, name) }));
  const plain = rows.map((row) => Object.fromEntries(names.map((name) => [name, plainValue(row?.[name])])));
  return { columns, rows: plain };
}

function inferType(rows, name) {
  let type;
  for (const row of rows) {
    const value = row?.[name];
    if (value == null || value === "") continue;
    const kind =
      value instanceof Date
        ? isMidnightUtc(value)
          ? "DATE"
          : "TIMESTAMP"
        : typeof value === "number"
          ? Number.isInteger(value)
            ? "BIGINT"
            : "DOUBLE"
          : typeof value === "bigint"
            ? "BIGINT"
            : typeof value === "boolean"
              ? "BOOLEAN"
              : "VARCHAR";
    if (type === undefined) type = kind;
    else if (type !== kind) {
      const numbers = new Set([type, kind]);
      if (numbers.has("BIGINT") && numbers.has("DOUBLE") && numbers.size === 2) type = "DOUBLE";
      else if (numbers.has("DATE") && numbers.has("TIMESTAMP") && numbers.size === 2) type = "TIMESTAMP";
      else return "VARCHAR";
    }
  }
  return type ?? "VARCHAR";
}

function isMidnightUtc(date) {
  return (
    date.getUTCHours() === 0 &&
    date.getUTCMinutes() === 0 &&
    date.getUTCSeconds() === 0 &&
    date.getUTCMilliseconds() === 0
  );
}

function plainValue(value) {
  if (value == null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    const iso = value.toISOString();
    return isMidnightUtc(value) ? iso.slice(0, 10) : iso.slice(0, 23).replace("T", " ");
  }
  if (typeof value === "object") return JSON.stringify(value);
  return value;
}
