/**
 * How users declare a CSV dataset's columns: a JSON spec file
 * (`{"dataset": "quotes", "columns": [{"name": "price", "type": "DECIMAL(18,4)"}], "delimiter": ","}`)
 * or a compact list for the command line: `symbol:VARCHAR,date:DATE:%b %d %Y,price:DECIMAL(18,4)`,
 * where `name?:TYPE` allows empty values and a third part is the strptime format of a DATE or
 * TIMESTAMPTZ column. Both are validated once into a `CsvIngestSpec`.
 */
import { z } from "zod";
import { DataError } from "../errors.ts";
import { normalizeName } from "../lake/index.ts";
import type { CsvColumn, CsvIngestSpec } from "./csvIngest.ts";

const SIMPLE_TYPES = ["VARCHAR", "DATE", "BIGINT", "DOUBLE", "TIMESTAMPTZ"] as const;
const DECIMAL = /^DECIMAL\((\d{1,2}),(\d{1,2})\)$/;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_ ]{0,63}$/;
const TYPE_HELP = "VARCHAR, DATE, BIGINT, DOUBLE, TIMESTAMPTZ or DECIMAL(p,s) with p <= 38";

/** Validates a type name, normalizing case and spaces (`decimal(18, 4)` -> `DECIMAL(18,4)`). */
export function normalizeColumnType(type: string, column: string): CsvColumn["type"] {
  const upper = type.toUpperCase().replace(/\s+/g, "");
  if ((SIMPLE_TYPES as readonly string[]).includes(upper)) return upper as CsvColumn["type"];
  if (upper === "TIMESTAMPWITHTIMEZONE") return "TIMESTAMPTZ";
  const decimal = DECIMAL.exec(upper);
  if (decimal) {
    const [precision, scale] = [Number(decimal[1]), Number(decimal[2])];
    if (precision >= 1 && precision <= 38 && scale <= precision) return `DECIMAL(${precision},${scale})`;
  }
  throw new DataError(`column '${column}' has the unknown type '${type}': use ${TYPE_HELP}`);
}

function normalizeColumn(column: {
  name: string;
  type: string;
  format?: string;
  nullable?: boolean;
  round?: boolean;
}): CsvColumn {
  if (!COLUMN_NAME.test(column.name)) {
    throw new DataError(
      `invalid column name '${column.name}': start with a letter or _, then letters, digits, _ or spaces`,
    );
  }
  const type = normalizeColumnType(column.type, column.name);
  if (column.format !== undefined && type !== "DATE" && type !== "TIMESTAMPTZ") {
    throw new DataError(`column '${column.name}': a format only applies to DATE and TIMESTAMPTZ columns`);
  }
  if (column.round && !type.startsWith("DECIMAL")) {
    throw new DataError(`column '${column.name}': round only applies to DECIMAL columns`);
  }
  return {
    name: column.name,
    type,
    ...(column.format !== undefined && { format: column.format }),
    ...(column.nullable && { nullable: true }),
    ...(column.round && { round: true }),
  };
}

function checkUnique(columns: CsvColumn[]): CsvColumn[] {
  if (columns.length === 0) throw new DataError("a CSV spec needs at least one column");
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name)) throw new DataError(`column '${name}' is declared twice`);
    seen.add(name);
  }
  return columns;
}

/**
 * Validates a field separator: one character that can separate fields. NUL would end DuckDB's
 * string, and a quote or a line break would make every row ambiguous.
 */
export function normalizeDelimiter(delimiter: string): string {
  if ([...delimiter].length !== 1)
    throw new DataError(`the delimiter must be one character, got ${JSON.stringify(delimiter)}`);
  if (delimiter === "\0" || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw new DataError(
      `the delimiter cannot be ${JSON.stringify(delimiter)} (NUL, a quote or a line break): use the file's field separator, e.g. ',' ';' or a tab`,
    );
  }
  return delimiter;
}

/** Parses `name:TYPE[:format],...`; commas inside parentheses (DECIMAL(18,4)) do not split. */
export function parseColumnList(list: string): CsvColumn[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of list) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return checkUnique(
    parts.map((part) => {
      const [rawName = "", type, ...format] = part.trim().split(":");
      if (!type) {
        throw new DataError(`invalid column '${part.trim()}': write name:TYPE, e.g. price:DECIMAL(18,4)`);
      }
      const nullable = rawName.endsWith("?");
      return normalizeColumn({
        name: nullable ? rawName.slice(0, -1) : rawName,
        type,
        ...(format.length > 0 && { format: format.join(":") }),
        nullable,
      });
    }),
  );
}

const specSchema = z
  .object({
    dataset: z.string().optional(),
    delimiter: z.string().length(1).optional(),
    columns: z.array(
      z
        .object({
          name: z.string(),
          type: z.string(),
          format: z.string().optional(),
          nullable: z.boolean().optional(),
          round: z.boolean().optional(),
        })
        .strict(),
    ),
  })
  .strict();

/** Validates a spec file's content; `dataset` overrides the file's dataset name. */
export function normalizeCsvSpec(spec: unknown, dataset?: string): CsvIngestSpec {
  const parsed = specSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError(
      `invalid CSV spec at '${issue?.path.join(".") || "(root)"}': ${issue?.message}; expected {"dataset", "columns": [{"name", "type", "format"?, "nullable"?, "round"?}], "delimiter"?}`,
    );
  }
  const name = dataset ?? parsed.data.dataset;
  if (name === undefined)
    throw new DataError('the CSV spec names no dataset: add "dataset" or pass --dataset');
  return {
    dataset: normalizeName(name),
    columns: checkUnique(parsed.data.columns.map(normalizeColumn)),
    ...(parsed.data.delimiter !== undefined && { delimiter: normalizeDelimiter(parsed.data.delimiter) }),
  };
}
