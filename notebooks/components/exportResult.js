/**
 * Exports of a result, generated in the browser: CSV (RFC 4180), JSON (an array of objects,
 * exact decimals as strings), Parquet (written by DuckDB-WASM from the same rows) and Markdown
 * (copied to the clipboard).
 */

export function toCsv(columns, rows) {
  const field = (value) => {
    if (value == null) return "";
    const text = String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.map((c) => field(c.name)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => field(row[c.name])).join(","));
  return lines.join("\r\n") + "\r\n";
}

export function toJson(columns, rows) {
  return JSON.stringify(
    rows.map((row) => Object.fromEntries(columns.map((c) => [c.name, row[c.name] ?? null]))),
  );
}

export function toMarkdown(columns, rows) {
  const cell = (value) => (value == null ? "" : String(value).replace(/\|/g, "\\|").replace(/\n/g, " "));
  const head = `| ${columns.map((c) => cell(c.name)).join(" | ")} |`;
  const rule = `| ${columns.map((c) => (c.kind === "number" ? "---:" : "---")).join(" | ")} |`;
  return (
    [head, rule, ...rows.map((row) => `| ${columns.map((c) => cell(row[c.name])).join(" | ")} |`)].join(
      "\n",
    ) + "\n"
  );
}

/**
 * Parquet bytes of the rows: DuckDB-WASM reads them back as CSV with the result's column types
 * (exact DECIMALs, DATEs; CSV is built into this engine, JSON is not) and writes a ZSTD Parquet
 * file in its in-memory file system. An empty text value comes back as NULL.
 */
export async function toParquet(db, columns, rows) {
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const input = `export-${stamp}.csv`;
  const output = `export-${stamp}.parquet`;
  await db.registerFileText(input, toCsv(columns, rows));
  const conn = await db.connect();
  try {
    const cols = columns
      .map((c) => `${quoteIdentifier(c.name)}: '${duckType(c).replace(/'/g, "''")}'`)
      .join(", ");
    await conn.query(
      `COPY (SELECT * FROM read_csv('${input}', header = true, delim = ',', quote = '"', columns = {${cols}})) TO '${output}' (FORMAT PARQUET, COMPRESSION ZSTD)`,
    );
    return await db.copyFileToBuffer(output);
  } finally {
    await conn.close();
    await db.dropFile(input).catch(() => {});
    await db.dropFile(output).catch(() => {});
  }
}

/** The Parquet column type; timestamps stay ISO 8601 text (this engine parses no zone suffix). */
function duckType(column) {
  if (/^(DECIMAL|DATE$|TIMESTAMP$|BOOLEAN|BIGINT|INTEGER|DOUBLE|VARCHAR)/.test(column.type))
    return column.type;
  if (column.kind === "number") return /Decimal/.test(column.type) ? decimalFromArrow(column.type) : "DOUBLE";
  if (column.kind === "date") return /^Date/.test(column.type) ? "DATE" : "VARCHAR";
  if (column.kind === "boolean") return "BOOLEAN";
  return "VARCHAR";
}

/** Arrow's "Decimal[18e4]" (precision e scale) -> DECIMAL(18,4). */
function decimalFromArrow(type) {
  const m = /(\d+)e(\d+)/.exec(type);
  return m ? `DECIMAL(${m[1]},${m[2]})` : "DOUBLE";
}

/** Starts a download of `bytes` (string or Uint8Array) as `name`. */
export function download(name, bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A quoted DuckDB identifier. Kept here rather than imported from duckdb.js: that module loads
 * DuckDB-WASM, which a page offering downloads should fetch only when a Parquet file is asked for.
 */
function quoteIdentifier(name) {
  return `"${String(name).replace(/"/g, '""')}"`;
}
