/**
 * A header-less CSV file written in batches with backpressure, the bounded-memory bridge
 * between a database cursor and DuckDB: every value is quoted, NULL is an unquoted empty
 * field, so DuckDB (with allow_quoted_nulls = false) tells NULL from the empty string.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";

export interface CsvWriter {
  writeRows(rows: (string | null)[][]): Promise<void>;
  close(): Promise<void>;
}

export function createCsvWriter(path: string): CsvWriter {
  const stream = createWriteStream(path, { encoding: "utf8" });
  const field = (value: string | null) => (value === null ? "" : `"${value.replaceAll('"', '""')}"`);
  return {
    async writeRows(rows) {
      let chunk = "";
      for (const row of rows) chunk += row.map(field).join(",") + "\n";
      if (!stream.write(chunk)) await once(stream, "drain");
    },
    async close() {
      stream.end();
      await once(stream, "close");
    },
  };
}

/** The DuckDB table function reading such a file as `c0, c1, ...` VARCHAR columns. */
export function csvReader(pathLiteral: string, columnCount: number): string {
  const columns = Array.from({ length: columnCount }, (_, i) => `'c${i}': 'VARCHAR'`).join(", ");
  return (
    `read_csv(${pathLiteral}, header = false, delim = ',', quote = '"', escape = '"', ` +
    `allow_quoted_nulls = false, nullstr = '', parallel = false, columns = {${columns}})`
  );
}
