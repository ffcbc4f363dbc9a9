/**
 * What the failure of user-written SQL (a promotion's model, a quality predicate) may tell the
 * user. DuckDB's messages quote the data they choked on: a conversion error quotes the value, a
 * CSV error the whole line, and further lines add context. Such text can come from any file the
 * statement reached, so only the first line is kept and every single-quoted string in it that the
 * SQL itself does not contain is replaced by '…'. A refused file access is said in words, with
 * what to do instead.
 */

const QUOTED = /'(?:[^']|'')*'/g;

/** A one-line description of a DuckDB error raised by `sql`, without data from the files it read. */
export function describeSqlError(error: unknown, sql: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = (message.split("\n")[0] ?? "").trim();
  const redacted = first.replace(QUOTED, (quoted) => (sql.includes(quoted) ? quoted : "'…'"));
  if (/^Permission Error:/.test(first)) {
    const path = /"([^"]*)"/.exec(first)?.[1];
    const named = path !== undefined && sql.includes(path) ? ` (${path})` : "";
    return (
      `it reads a file${named} outside the datasets it is entitled to, which is refused: ` +
      `read inputs only by their relation names, never by path or with read_csv, read_text, glob or ATTACH`
    );
  }
  return redacted;
}
