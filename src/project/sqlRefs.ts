/**
 * The datasets a model's SQL reads: every `<zone>.<dataset>` name (zone raw, staging or curated;
 * either part may be double-quoted) outside string literals and comments, with its line. The
 * dependency graph is built from these, and the SQL is rewritten to read each one from a view of
 * the dataset's current version. Zone names are therefore reserved: do not use `raw`, `staging`
 * or `curated` as a table alias.
 */
import { ConfigError } from "../errors.ts";
import type { VersionedZone } from "../lake/index.ts";
import { quoteIdentifier } from "../pipeline/index.ts";

export interface SqlReference {
  zone: VersionedZone;
  dataset: string;
  /** 1-based line in the text given (add the header's lines for the file's line). */
  line: number;
  start: number;
  end: number;
}

const ZONES = new Set(["raw", "staging", "curated"]);

interface Token {
  kind: "ident" | "quoted" | "symbol";
  text: string;
  start: number;
  end: number;
}

/** The significant tokens of the SQL: identifiers and symbols, no strings, numbers or comments. */
function tokens(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'") {
      i++;
      while (i < sql.length && !(sql[i] === "'" && sql[i + 1] !== "'")) i += sql[i] === "'" ? 2 : 1;
      i++;
    } else if (c === "$" && sql[i + 1] === "$") {
      const end = sql.indexOf("$$", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === '"') {
      const start = i;
      let text = "";
      i++;
      while (i < sql.length) {
        if (sql[i] === '"' && sql[i + 1] === '"') {
          text += '"';
          i += 2;
        } else if (sql[i] === '"') break;
        else text += sql[i++];
      }
      i++;
      out.push({ kind: "quoted", text, start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      out.push({ kind: "ident", text: sql.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(c)) {
      while (i < sql.length && /[0-9.eE]/.test(sql[i]!)) i++;
    } else {
      out.push({ kind: "symbol", text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

function lineOf(sql: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos; i++) if (sql.charCodeAt(i) === 10) line++;
  return line;
}

export function findReferences(sql: string): SqlReference[] {
  const list = tokens(sql);
  const refs: SqlReference[] = [];
  for (let t = 0; t + 2 < list.length; t++) {
    const [zone, dot, name] = [list[t]!, list[t + 1]!, list[t + 2]!];
    if (zone.kind === "symbol" || dot.text !== "." || name.kind === "symbol") continue;
    const zoneName = zone.kind === "ident" ? zone.text.toLowerCase() : zone.text;
    if (!ZONES.has(zoneName)) continue;
    // `x.raw.y` is a column or a catalog path, not a dataset.
    if (t > 0 && list[t - 1]!.text === ".") continue;
    refs.push({
      zone: zoneName as VersionedZone,
      dataset: name.text,
      line: lineOf(sql, zone.start),
      start: zone.start,
      end: name.end,
    });
    t += 2;
  }
  return refs;
}

/** The view name the rewritten SQL reads a dataset from. */
export function relationName(zone: string, dataset: string): string {
  return `${zone}.${dataset}`;
}

/**
 * The SQL with each reference replaced by its view and one trailing semicolon dropped (the SQL
 * is wrapped in subqueries). More than one statement is refused, naming the line.
 */
export function rewriteSql(sql: string, refs: SqlReference[], where: (line: number) => string): string {
  const list = tokens(sql);
  let end = sql.length;
  const last = list[list.length - 1];
  const semicolons = list.filter((t) => t.text === ";");
  for (const semicolon of semicolons) {
    if (semicolon !== last) {
      throw new ConfigError(
        `${where(lineOf(sql, semicolon.start))}: a model is one SELECT statement; remove the ';' and what follows`,
      );
    }
  }
  if (last?.text === ";") end = last.start;
  let out = "";
  let at = 0;
  for (const ref of [...refs].sort((a, b) => a.start - b.start)) {
    out += sql.slice(at, ref.start) + quoteIdentifier(relationName(ref.zone, ref.dataset));
    at = ref.end;
  }
  if (at > end) throw new Error("a reference runs past the end of the statement");
  // A trailing line comment must not swallow the parenthesis the SQL is wrapped in.
  return out + sql.slice(at, end) + "\n";
}
