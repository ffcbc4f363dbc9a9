/**
 * Physical line numbers of a CSV file's records. DuckDB numbers neither the rows it parses nor,
 * in its rejects, the line breaks inside quoted values (it does count blank lines, which hold no
 * record). A file without quotes and blank lines has one record per line, so its rows are numbered
 * from the rejects alone (csvIngest.ts); any other file is scanned here once, jumping from quote
 * to line break with `indexOf`, to find where each record starts.
 *
 * The scan's result is small unless the file is irregular throughout: the parsed rows whose line
 * is not the previous row's line + 1 ("jumps"), and the physical line of each rejected record.
 */
import { createReadStream } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { type Db, quoteLiteral } from "./duckdb.ts";

const LF = 10;
const CR = 13;
const QUOTE = 34;
const CHUNK = 1 << 20;

export interface LineJumps {
  /** Parsed row index (0-based, header and rejected records excluded) -> its physical line. */
  jumps: { index: number; line: number }[];
  /** DuckDB's line of a rejected record -> the physical line it starts on. */
  rejectLines: Map<number, number>;
}

/** Whether the file has a quote or a blank line, i.e. whether records and lines may differ. */
export async function needsLineScan(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(CHUNK + 2);
    // The previous chunk's last two bytes are kept in front, so "\n\n" across chunks is seen.
    let carried = 0;
    let first = true;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, carried, CHUNK, null);
      if (bytesRead === 0) return false;
      const chunk = buffer.subarray(0, carried + bytesRead);
      if (chunk.includes(QUOTE)) return true;
      if (chunk.includes("\n\n") || chunk.includes("\n\r\n")) return true;
      if (first && (chunk[0] === LF || (chunk[0] === CR && chunk[1] === LF))) return true;
      first = false;
      carried = Math.min(2, chunk.length);
      chunk.copy(buffer, 0, chunk.length - carried);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Walks the file's records. `rejected` holds DuckDB's lines of the records it rejected (its line
 * counter: 1 + the line breaks outside quotes before the record), which are not parsed rows.
 */
export async function scanLines(path: string, rejected: Set<number>): Promise<LineJumps> {
  const jumps: LineJumps["jumps"] = [];
  const rejectLines = new Map<number, number>();
  let physical = 1; // line of the current position
  let duck = 1; // DuckDB's line counter: line breaks outside quotes only
  let inQuotes = false;
  let atLineStart = true;
  let records = 0;
  let parsed = 0;
  let lastLine = 1;
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      let pos = 0;
      let nextQuote = -2;
      let nextBreak = -2;
      while (pos < chunk.length) {
        if (atLineStart && !inQuotes) {
          const byte = chunk[pos];
          const blank = byte === LF || (byte === CR && chunk[pos + 1] === LF);
          if (!blank) {
            // A record starts here.
            if (records++ > 0) {
              if (rejected.has(duck)) rejectLines.set(duck, physical);
              else {
                if (physical !== lastLine + 1) jumps.push({ index: parsed, line: physical });
                lastLine = physical;
                parsed++;
              }
            }
          }
          atLineStart = false;
        }
        if (nextQuote !== -1 && nextQuote < pos) nextQuote = chunk.indexOf(QUOTE, pos);
        if (nextBreak !== -1 && nextBreak < pos) nextBreak = chunk.indexOf(LF, pos);
        const quote = nextQuote === -1 ? Infinity : nextQuote;
        const lineBreak = nextBreak === -1 ? Infinity : nextBreak;
        if (quote === Infinity && lineBreak === Infinity) break;
        if (quote < lineBreak) {
          // `""` inside a quoted value closes and reopens: the state is right either way.
          inQuotes = !inQuotes;
          pos = quote + 1;
        } else {
          physical++;
          if (!inQuotes) {
            duck++;
            atLineStart = true;
          }
          pos = lineBreak + 1;
        }
      }
    }
  } finally {
    await handle.close();
  }
  return { jumps, rejectLines };
}

/** How the parsed row with index `_idx` (relation alias `typed`) gets its physical line. */
export interface RowNumbering {
  /** The SQL expression of the row's line. */
  line: string;
  /** Joined after the rows' relation (empty when not needed). */
  join: string;
  /** Whether the rows stay in file order (no join reorders them). */
  ordered: boolean;
}

/**
 * After DuckDB parsed the file (its rejects in `reject_errors`): creates `reject_lines` (DuckDB's
 * line of each rejected record -> its physical line) and what numbers the parsed rows. A quoted
 * value that never closes makes DuckDB read the rest of the file as one value: the file is
 * refused with the line where the quote opens, since nothing after it can be trusted as rows,
 * unless that line is the file's last (then only its record is rejected).
 */
export async function numberRows(
  db: Db,
  path: string,
  key: string,
  scanNeeded: boolean,
  scratchDir: string,
): Promise<RowNumbering> {
  const rejected = (await db.all(`SELECT DISTINCT line FROM reject_errors ORDER BY line`)).map((r) =>
    Number(r.line),
  );
  const scan = scanNeeded ? await scanLines(path, new Set(rejected)) : undefined;
  const [unterminated] = await db.all(
    `SELECT min(line) AS line FROM reject_errors WHERE error_message ILIKE '%unterminated quote%'`,
  );
  if (unterminated?.line !== null && unterminated?.line !== undefined) {
    const line = scan?.rejectLines.get(Number(unterminated.line)) ?? Number(unterminated.line);
    // On the file's last line the open quote swallows no other record: that line alone is rejected.
    const text = (await recordTexts(path, new Set([line]))).get(line);
    if (text === undefined || text.replace(/[\r\n]+$/, "").includes("\n")) {
      throw new DataError(
        `${key}: line ${line} opens a quoted value that is never closed, so the rest of the file cannot be read as rows; ` +
          `close the quote (a quote inside a quoted value is written "") and ingest again; nothing was ingested`,
      );
    }
  }
  const rejectLines = [...(scan?.rejectLines ?? new Map<number, number>())].map(([d, l]) => `${d},${l}`);
  await db.run(
    `CREATE TABLE reject_lines AS ${await csvTable(scratchDir, "reject_lines", "duck", rejectLines)}`,
  );
  if (scan) {
    const jumps = scan.jumps.map(({ index, line }) => `${index},${line}`);
    await db.run(`CREATE TABLE line_jumps AS ${await csvTable(scratchDir, "line_jumps", "i", jumps)}`);
    return {
      line: `CASE WHEN jump.i IS NULL THEN typed._idx + 2 ELSE jump.line + (typed._idx - jump.i) END`,
      join: `ASOF LEFT JOIN line_jumps jump ON typed._idx >= jump.i`,
      ordered: scan.jumps.length === 0,
    };
  }
  // One record per line: the n-th parsed row is on line n + 2 plus the number of rejected lines
  // before it. Threshold t_j: how many parsed rows precede the j-th rejected line; a row with
  // index i has #{j : t_j <= i} rejected lines before it.
  if (rejected.length === 0) return { line: `typed._idx + 2`, join: "", ordered: true };
  await db.run(`CREATE TABLE reject_thresholds AS
    SELECT max(t) AS t, max(k) AS k FROM (
      SELECT line - 2 - (row_number() OVER (ORDER BY line) - 1) AS t, row_number() OVER (ORDER BY line) AS k
      FROM (SELECT DISTINCT line FROM reject_errors)
    ) GROUP BY t`);
  return {
    line: `typed._idx + 2 + coalesce(th.k, 0)`,
    join: `ASOF LEFT JOIN reject_thresholds th ON typed._idx >= th.t`,
    ordered: false,
  };
}

/** A SELECT over `<key>,line` pairs, passed through a CSV file in the scratch folder. */
async function csvTable(scratchDir: string, name: string, key: string, rows: string[]): Promise<string> {
  const path = join(scratchDir, `${name}.csv`);
  await writeFile(path, rows.length > 0 ? rows.join("\n") + "\n" : "");
  if (rows.length === 0) return `SELECT CAST(NULL AS BIGINT) AS ${key}, CAST(NULL AS BIGINT) AS line LIMIT 0`;
  return `SELECT * FROM read_csv(${quoteLiteral(path)}, header = false, auto_detect = false,
    columns = {'${key}': 'BIGINT', 'line': 'BIGINT'})`;
}

/** Longest text kept for one record: a reject names its row, it does not copy a huge value. */
const MAX_RECORD_TEXT = 64 * 1024;

/**
 * The raw text of the records starting on the given physical lines, as written in the file (a
 * record spans several lines when a quoted value holds line breaks; one whose quote never closes
 * runs to the end of the file). One pass, stopping after the last wanted record; each text is cut
 * at 64 KiB.
 */
export async function recordTexts(path: string, lines: ReadonlySet<number>): Promise<Map<number, string>> {
  const texts = new Map<number, string>();
  let last = 0;
  for (const line of lines) last = Math.max(last, line);
  if (last === 0) return texts;
  let physical = 0;
  let inQuotes = false;
  let current: { line: number; parts: Buffer[]; bytes: number } | undefined;
  const finish = () => {
    if (!current) return;
    const text = Buffer.concat(current.parts).toString("utf8");
    texts.set(current.line, current.bytes > MAX_RECORD_TEXT ? `${text}…` : text);
    current = undefined;
  };
  // Returns false once every wanted record is read.
  const onLine = (raw: Buffer): boolean => {
    physical++;
    const line = raw.at(-1) === CR ? raw.subarray(0, -1) : raw;
    if (!inQuotes && line.length > 0 && lines.has(physical))
      current = { line: physical, parts: [], bytes: 0 };
    if (current) {
      const room = MAX_RECORD_TEXT - current.bytes;
      if (current.parts.length > 0 && room > 0) current.parts.push(Buffer.from("\n"));
      if (room > 0) current.parts.push(Buffer.from(line.subarray(0, room)));
      current.bytes += line.length + (current.parts.length > 1 ? 1 : 0);
    }
    for (let at = line.indexOf(QUOTE); at !== -1; at = line.indexOf(QUOTE, at + 1)) inQuotes = !inQuotes;
    if (!inQuotes) finish();
    return current !== undefined || physical < last;
  };
  let carry = Buffer.alloc(0);
  scan: for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
    const buffer = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let lf = buffer.indexOf(LF); lf !== -1; lf = buffer.indexOf(LF, start)) {
      const more = onLine(buffer.subarray(start, lf));
      start = lf + 1;
      if (!more) break scan;
    }
    carry = Buffer.from(buffer.subarray(start));
  }
  if (carry.length > 0) onLine(carry);
  finish();
  return texts;
}
