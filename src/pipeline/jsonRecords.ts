/**
 * JSON records with their line numbers and their values' exact text. `JSON.parse` (and DuckDB's
 * JSON reader) turn every number into a double, so `123456789012345678.1234` would reach a
 * DECIMAL column already rounded; this scanner instead keeps each top-level field's value as the
 * text it was written as (strings decoded, numbers verbatim, nested objects and arrays as JSON
 * text), which is then cast to the declared type by DuckDB exactly like a CSV value.
 *
 * Layouts: NDJSON (one record per line; a bad line is rejected with its number and the others are
 * kept), a JSON array of records, or a document whose records sit at `itemsPath` (an API page such
 * as `{"data": [...]}`). A syntax error in an array or document cannot be skipped: the whole file
 * is refused, naming the line.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { DataError } from "../errors.ts";

/** One record: the fields' text (null for JSON null), or why the record cannot be read. */
export interface JsonRecord {
  line: number;
  fields?: Record<string, string | null>;
  error?: string;
}

class ScanError extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}

type Kind = "object" | "array" | "string" | "number" | "true" | "false" | "null";

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A cursor over one JSON text that checks syntax as it skips values. */
class Scanner {
  pos = 0;
  private linePos = 0;
  private lineNo = 1;
  constructor(
    readonly text: string,
    readonly firstLine = 1,
  ) {}

  /** The 1-based line of `pos` (positions are asked for in increasing order). */
  lineAt(pos: number): number {
    if (pos < this.linePos) {
      this.linePos = 0;
      this.lineNo = 1;
    }
    for (let i = this.linePos; i < pos; i++) if (this.text.charCodeAt(i) === 10) this.lineNo++;
    this.linePos = pos;
    return this.lineNo + this.firstLine - 1;
  }

  skipWhitespace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      this.pos++;
    }
  }

  atEnd(): boolean {
    this.skipWhitespace();
    return this.pos >= this.text.length;
  }

  expect(char: string): void {
    this.skipWhitespace();
    if (this.text[this.pos] !== char)
      throw new ScanError(this.pos, `expected '${char}', found ${this.found()}`);
    this.pos++;
  }

  found(): string {
    return this.pos >= this.text.length ? "the end of the file" : `'${this.text[this.pos]}'`;
  }

  /** Skips one value, returning where it starts and ends and what it is. */
  value(): { start: number; end: number; kind: Kind } {
    this.skipWhitespace();
    const start = this.pos;
    const c = this.text[this.pos];
    let kind: Kind;
    if (c === "{") {
      this.members(() => this.value());
      kind = "object";
    } else if (c === "[") {
      this.elements(() => this.value());
      kind = "array";
    } else if (c === '"') {
      this.string();
      kind = "string";
    } else if (c === "t" || c === "f" || c === "n") {
      const word = c === "t" ? "true" : c === "f" ? "false" : "null";
      if (!this.text.startsWith(word, this.pos)) throw new ScanError(this.pos, `unexpected ${this.found()}`);
      this.pos += word.length;
      kind = word;
    } else {
      NUMBER.lastIndex = this.pos;
      if (!NUMBER.test(this.text)) throw new ScanError(this.pos, `unexpected ${this.found()}`);
      this.pos = NUMBER.lastIndex;
      kind = "number";
    }
    return { start, end: this.pos, kind };
  }

  /** Skips a string, returning its decoded text. */
  string(): string {
    const start = this.pos;
    this.pos++;
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        try {
          return JSON.parse(text.slice(start, this.pos)) as string;
        } catch {
          throw new ScanError(start, "invalid escape in a string");
        }
      }
      if (c < 32) throw new ScanError(this.pos, "a string contains a raw control character or line break");
      this.pos += c === 92 ? 2 : 1;
    }
    throw new ScanError(start, "a string is not closed");
  }

  /** Walks an object's members: `onValue` is called positioned at each member's value. */
  members(onValue: (key: string) => void): void {
    this.expect("{");
    this.skipWhitespace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"')
        throw new ScanError(this.pos, `expected a member name, found ${this.found()}`);
      const key = this.string();
      this.expect(":");
      onValue(key);
      this.skipWhitespace();
      if (this.text[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("}");
      return;
    }
  }

  elements(onElement: () => void): void {
    this.expect("[");
    this.skipWhitespace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return;
    }
    for (;;) {
      onElement();
      this.skipWhitespace();
      if (this.text[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("]");
      return;
    }
  }

  /** Reads one record (an object) into field texts; a non-object is a record error. */
  record(): JsonRecord {
    this.skipWhitespace();
    const line = this.lineAt(this.pos);
    if (this.text[this.pos] !== "{") {
      const { kind } = this.value();
      return { line, error: `expected a JSON object, found ${kind === "array" ? "an array" : `a ${kind}`}` };
    }
    const fields: Record<string, string | null> = {};
    this.members((key) => {
      const { start, end, kind } = this.value();
      const raw = this.text.slice(start, end);
      fields[key] =
        kind === "null"
          ? null
          : kind === "string"
            ? (JSON.parse(raw) as string)
            : raw.replace(/\s*\n\s*/g, " ");
    });
    return { line, fields };
  }
}

function describeError(error: unknown, scanner: Scanner, what: string): never {
  if (error instanceof ScanError) {
    throw new DataError(
      `${what} is not valid JSON at line ${scanner.lineAt(error.pos)}: ${error.message}; fix the file (or declare it as NDJSON if it has one record per line)`,
    );
  }
  throw error;
}

/**
 * The records of a JSON document: the array itself, or the array at `itemsPath` (dot-separated
 * member names, e.g. `data` or `result.items`). Returns undefined when the text holds more than
 * one value (it is NDJSON).
 */
export function documentRecords(text: string, what: string, itemsPath = ""): JsonRecord[] | undefined {
  const scanner = new Scanner(text.replace(/^\uFEFF/, " "));
  const records: JsonRecord[] = [];
  const path = itemsPath === "" ? [] : itemsPath.split(".");
  let found = false;
  const walk = (depth: number): void => {
    scanner.skipWhitespace();
    if (depth === path.length) {
      if (scanner.text[scanner.pos] !== "[") {
        const { kind } = scanner.value();
        throw new DataError(
          `${what} has no array of records at '${itemsPath || "(the document)"}' (found ${kind === "object" ? "an object" : `a ${kind}`}): set itemsPath to where the records are`,
        );
      }
      found = true;
      scanner.elements(() => records.push(scanner.record()));
      return;
    }
    if (scanner.text[scanner.pos] !== "{") {
      scanner.value();
      return;
    }
    scanner.members((key) => (key === path[depth] && !found ? walk(depth + 1) : void scanner.value()));
  };
  try {
    walk(0);
    if (!scanner.atEnd()) {
      if (path.length === 0 && records.length === 0) return undefined;
      throw new ScanError(scanner.pos, `unexpected ${scanner.found()} after the document`);
    }
  } catch (error) {
    if (path.length === 0 && error instanceof DataError && records.length === 0) {
      // A single object may be the first line of an NDJSON file.
      return undefined;
    }
    describeError(error, scanner, what);
  }
  if (!found)
    throw new DataError(`${what} has no member '${itemsPath}': set itemsPath to where the records are`);
  return records;
}

/** One record per non-blank line; a line that is not a JSON object is a rejected record. */
export async function* ndjsonRecords(path: string): AsyncGenerator<JsonRecord> {
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    const scanner = new Scanner(line === 1 ? text.replace(/^\uFEFF/, " ") : text, line);
    try {
      const record = scanner.record();
      if (!scanner.atEnd())
        throw new ScanError(scanner.pos, `unexpected ${scanner.found()} after the record`);
      yield record;
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      yield { line, error: `invalid JSON: ${error.message}` };
    }
  }
}
