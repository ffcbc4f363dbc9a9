/**
 * Where an explorer query runs. DuckDB-WASM in the browser reads Parquet with range requests, so a
 * query that touches a few row groups of a few columns is fast there (and moves little); one that
 * scans most of a big file is far faster on the server, where DuckDB reads the same file from
 * disk. The choice comes from the files' own footers: the compressed size of every column chunk
 * the query can touch (columns it names; row groups whose min/max statistics can match its simple
 * `column op literal` conditions), summed over the dataset versions it reads.
 */
import { quoteString } from "./duckdb.js";

/** Up to this many estimated bytes, a query runs in the browser. */
export const LOCAL_BYTES_LIMIT = 16 * 1024 * 1024;

const footers = new Map();

/** Column chunks of a registered version: [{rowGroup, column, bytes, min, max}]. */
async function columnChunks(db, fileNames, key) {
  if (!footers.has(key)) {
    footers.set(
      key,
      (async () => {
        const conn = await db.connect();
        try {
          const table = await conn.query(
            `SELECT file_name, row_group_id, path_in_schema, total_compressed_size, stats_min_value, stats_max_value
             FROM parquet_metadata([${fileNames.map(quoteString).join(", ")}])`,
          );
          return table.toArray().map((r) => ({
            rowGroup: `${r.file_name}#${r.row_group_id}`,
            column: String(r.path_in_schema).toLowerCase(),
            bytes: Number(r.total_compressed_size),
            min: r.stats_min_value ?? null,
            max: r.stats_max_value ?? null,
          }));
        } finally {
          await conn.close();
        }
      })().catch((error) => {
        footers.delete(key);
        throw error;
      }),
    );
  }
  return footers.get(key);
}

/**
 * Estimated bytes `sql` reads from the versions `refs` ({key, fileNames, schema, bytes}).
 * Over-estimates rather than under: an unknown shape counts every column.
 */
export async function estimateBytes(db, sql, refs) {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  const star = /select\s+(distinct\s+)?\*|\.\*|,\s*\*/i.test(sql);
  const conditions = simpleConditions(sql);
  let total = 0;
  for (const ref of refs) {
    const columns = new Map(ref.schema.map((c) => [c.name.toLowerCase(), c.type]));
    const used = [...columns.keys()].filter((name) => star || words.has(name));
    let chunks;
    try {
      chunks = await columnChunks(db, ref.fileNames, ref.key);
    } catch {
      total += ref.bytes;
      continue;
    }
    const byGroup = new Map();
    for (const chunk of chunks) {
      if (!byGroup.has(chunk.rowGroup)) byGroup.set(chunk.rowGroup, []);
      byGroup.get(chunk.rowGroup).push(chunk);
    }
    for (const group of byGroup.values()) {
      const excluded = conditions.some((c) => {
        const chunk = group.find((g) => g.column === c.column);
        return chunk && columns.has(c.column) && !mayMatch(chunk, c, columns.get(c.column));
      });
      if (excluded) continue;
      // Even a count(*) reads one column's pages.
      const read = group.filter((g) => used.includes(g.column));
      total +=
        read.length > 0 ? read.reduce((sum, g) => sum + g.bytes, 0) : Math.min(...group.map((g) => g.bytes));
    }
  }
  return total;
}

/** `column op literal` conditions of a query without OR (with OR, none: nothing is pruned). */
export function simpleConditions(sql) {
  const where = /\bwhere\b([\s\S]*?)(\bgroup\s+by\b|\border\s+by\b|\blimit\b|\bhaving\b|$)/i.exec(sql);
  if (!where || /\bor\b/i.test(where[1])) return [];
  const conditions = [];
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)\s*(=|>=|<=|>|<)\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?)/g;
  for (const m of where[1].matchAll(pattern)) {
    const literal = m[3].startsWith("'") ? m[3].slice(1, -1).replace(/''/g, "'") : Number(m[3]);
    conditions.push({ column: m[1].toLowerCase(), op: m[2], value: literal });
  }
  return conditions;
}

function mayMatch(chunk, condition, type) {
  if (chunk.min === null || chunk.max === null) return true;
  let min = chunk.min;
  let max = chunk.max;
  let value = condition.value;
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|DOUBLE|FLOAT|REAL|HUGEINT)$/i.test(type)) {
    [min, max, value] = [Number(min), Number(max), Number(value)];
    if ([min, max, value].some(Number.isNaN)) return true;
  } else if (/^(VARCHAR|DATE)$/i.test(type)) {
    [min, max, value] = [String(min), String(max), String(value)];
  } else return true;
  switch (condition.op) {
    case "=":
      return value >= min && value <= max;
    case ">":
      return max > value;
    case ">=":
      return max >= value;
    case "<":
      return min < value;
    case "<=":
      return min <= value;
  }
  return true;
}
