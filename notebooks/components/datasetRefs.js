/**
 * Dataset references in explorer SQL, resolved to exact versions. Shared by the browser (the
 * explorer page) and the server (`POST /api/query`), so one query means the same rows wherever it
 * runs.
 *
 *   FROM curated.prices       the current version (or the version a shared link pinned)
 *   FROM curated.prices@3     version 3 ("time travel")
 *   FROM prices, JOIN prices@3   a bare name after FROM/JOIN: curated first, then staging
 *
 * Each reference is rewritten to `"<zone>@<version>"."<dataset>"`: a schema per version holding a
 * view named after the dataset, so `prices.close` still works as a column qualifier. Strings,
 * quoted identifiers and comments are never rewritten. A `zone.name` naming a dataset that is not
 * in `datasets` (missing, or one the reader may not read: the same answer) is an error.
 */

const ZONES = ["curated", "staging"];

/** Thrown for a reference to a dataset or version that cannot be used; `position` is 0-based. */
export class DatasetRefError extends Error {
  constructor(message, position) {
    super(message);
    this.name = "DatasetRefError";
    this.position = position;
  }
}

/**
 * @param {string} sql
 * @param {{zone: string, dataset: string, version: number}[]} datasets  current versions readable
 * @param {Record<string, number>} [pins]  "zone.dataset" -> version used when none is written
 * @returns {{sql: string, refs: {zone: string, dataset: string, version: number, explicit: boolean}[]}}
 */
export function resolveDatasetRefs(sql, datasets, pins = {}) {
  const current = new Map(datasets.map((d) => [`${d.zone}.${d.dataset}`, d.version]));
  const tokens = tokenize(sql);
  const refs = new Map();
  // Each rewrite as {from, to} in `sql` and {at, end} in the output, to map DuckDB's error
  // positions (which point into the output) back to what the user wrote.
  const edits = [];
  let out = "";
  let last = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind !== "ident") continue;
    let zone;
    let nameToken;
    let end;
    const dot = tokens[i + 1];
    const second = tokens[i + 2];
    if (
      ZONES.includes(token.value.toLowerCase()) &&
      dot?.kind === "punct" &&
      dot.value === "." &&
      dot.start === token.end &&
      second?.kind === "ident" &&
      second.start === dot.end
    ) {
      zone = token.value.toLowerCase();
      nameToken = second;
      end = i + 2;
      if (!current.has(`${zone}.${nameToken.value}`)) {
        throw new DatasetRefError(
          `no dataset ${zone}.${nameToken.value} that you may read: see the list of datasets`,
          token.start,
        );
      }
    } else {
      const before = previousWord(tokens, i);
      const follows = tokens[i + 1];
      if (follows?.kind === "punct" && follows.value === "." && follows.start === token.end) continue;
      if (before !== "from" && before !== "join") continue;
      zone = ZONES.find((z) => current.has(`${z}.${token.value}`));
      if (!zone) continue;
      nameToken = token;
      end = i;
    }
    let version;
    const at = tokens[end + 1];
    const digits = tokens[end + 2];
    if (at?.kind === "punct" && at.value === "@" && at.start === tokens[end].end) {
      if (digits?.kind !== "number" || digits.start !== at.end || !/^\d+$/.test(digits.value)) {
        throw new DatasetRefError(
          `write a version number after '@', e.g. ${zone}.${nameToken.value}@3`,
          at.start,
        );
      }
      version = Number(digits.value);
      if (version < 1) throw new DatasetRefError("versions start at 1", digits.start);
      end += 2;
    }
    const key = `${zone}.${nameToken.value}`;
    const explicit = version !== undefined;
    version ??= pins[key] ?? current.get(key);
    refs.set(`${key}@${version}`, { zone, dataset: nameToken.value, version, explicit });
    out += sql.slice(last, token.start);
    const rewrittenAt = out.length;
    out += `${quote(`${zone}@${version}`)}.${quote(nameToken.value)}`;
    edits.push({ from: token.start, to: tokens[end].end, at: rewrittenAt, end: out.length });
    last = tokens[end].end;
    i = end;
  }
  out += sql.slice(last);
  return { sql: out, refs: [...refs.values()], edits };
}

/**
 * The position in the SQL as written for `position` in the rewritten SQL (`edits` from
 * resolveDatasetRefs): shifted past earlier rewrites; inside a rewrite, its start.
 */
export function originalPosition(edits, position) {
  let shift = 0;
  for (const edit of edits) {
    if (position < edit.at) break;
    if (position < edit.end) return edit.from;
    shift = edit.to - edit.end;
  }
  return position + shift;
}

/**
 * The 0-based offset in `sql` that a DuckDB error message points at, or undefined. DuckDB appends
 * the line it failed on and a caret under the spot:
 *
 *   Parser Error: syntax error at or near "FORM"
 *   LINE 2: SELECT * FORM prices
 *                    ^
 * A long line is shown as an 80-character window with "..." on a cut side; the window is found
 * in the line to place the caret. Messages without a caret may say "at character N" (1-based).
 */
export function duckErrorPosition(message, sql) {
  const text = String(message ?? "");
  const lines = text.split("\n");
  for (let i = 0; i < lines.length - 1; i++) {
    const match = /^LINE (\d+): /.exec(lines[i]);
    const caret = lines[i + 1].indexOf("^");
    if (!match || caret < 0) continue;
    let shown = lines[i].slice(match[0].length);
    let column = caret - match[0].length;
    if (shown.startsWith("...")) {
      shown = shown.slice(3);
      column -= 3;
    }
    if (shown.endsWith("...")) shown = shown.slice(0, -3);
    const lineStarts = [0];
    for (let c = 0; c < sql.length; c++) if (sql[c] === "\n") lineStarts.push(c + 1);
    const start = lineStarts[Number(match[1]) - 1];
    if (start === undefined) return undefined;
    const lineEnd = sql.indexOf("\n", start);
    const line = sql.slice(start, lineEnd === -1 ? sql.length : lineEnd);
    const window = Math.max(0, line.indexOf(shown));
    return Math.min(sql.length, start + window + Math.max(0, column));
  }
  const at = /at character (\d+)/.exec(text);
  return at ? Math.min(sql.length, Number(at[1]) - 1) : undefined;
}

/** Quotes an identifier. */
export function quote(name) {
  return `"${String(name).replace(/"/g, '""')}"`;
}

function previousWord(tokens, i) {
  const before = tokens[i - 1];
  return before?.kind === "ident" && !before.quoted ? before.value.toLowerCase() : undefined;
}

/** Identifiers (bare or "quoted"), numbers and punctuation; strings and comments are skipped. */
function tokenize(sql) {
  const tokens = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) i++;
    else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? sql.length : nl;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close === -1 ? sql.length : close + 2;
    } else if (c === "'") {
      i = skipQuoted(sql, i, "'");
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"');
      tokens.push({
        kind: "ident",
        quoted: true,
        value: sql.slice(i + 1, end - 1).replace(/""/g, '"'),
        start: i,
        end,
      });
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i, i + 256));
      tokens.push({ kind: "ident", quoted: false, value: m[0], start: i, end: i + m[0].length });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9][0-9_.eE]*/.exec(sql.slice(i, i + 64));
      tokens.push({ kind: "number", value: m[0], start: i, end: i + m[0].length });
      i += m[0].length;
    } else {
      tokens.push({ kind: "punct", value: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

function skipQuoted(sql, start, quoteChar) {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quoteChar) {
      if (sql[i + 1] === quoteChar) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}
