/**
 * Expectation suites: what a dataset version must satisfy before it is promoted. A suite is plain
 * data, declared either with the typed builders below or in a YAML/JSON file (suiteFile.ts); both
 * produce the same `Suite`, so everything downstream (checks, compiled SQL, gating) is shared.
 */
import type { ColumnSchema, VersionedZone } from "../lake/index.ts";

export type Severity = "warn" | "fail";

/** Options every expectation accepts. */
export interface ExpectationOptions {
  /** A stable name for results and messages; defaults to the type and its columns. */
  id?: string;
  /** `fail` (default) blocks promotion; `warn` is reported only. */
  severity?: Severity;
  /** Fraction of rows (0..1) that must pass, for row-level expectations. Default 1. */
  mostly?: number;
  /** Route failing rows to the quarantine area instead of failing (row-level expectations only). */
  quarantine?: boolean;
  description?: string;
}

export type ExpectationSpec =
  | { type: "not_null"; column: string }
  | { type: "unique"; columns: string[] }
  /** Inclusive bounds; numbers for numeric columns, ISO dates (`YYYY-MM-DD`) for date/time columns. */
  | { type: "between"; column: string; min?: number | string; max?: number | string }
  | { type: "in_set"; column: string; values: (string | number)[] }
  /** DuckDB (RE2) regular expression, matched anywhere in the value: anchor it with ^ and $. */
  | { type: "matches_regex"; column: string; pattern: string }
  | { type: "column_type"; column: string; columnType: string }
  /** The schema equals `columns`; with `allowAdditional`, extra columns are allowed (additive drift). */
  | { type: "schema"; columns: ColumnSchema[]; allowAdditional?: boolean }
  | { type: "row_count_between"; min?: number; max?: number }
  /** Row count change against the previous version, in percent of the previous count. */
  | { type: "row_count_change"; maxPercent: number }
  /** The newest value of a date/timestamp column is at most `maxAgeDays` old. */
  | { type: "freshness"; column: string; maxAgeDays: number }
  /** Every non-null value exists in `column` (default: the same name) of another dataset's head. */
  | {
      type: "referential";
      column: string;
      to: { zone: VersionedZone; dataset: string; column?: string };
    }
  /** A SQL boolean expression over one row that must be true (NULL counts as false). */
  | { type: "sql"; predicate: string };

export type Expectation = ExpectationSpec & ExpectationOptions;

/** Where an expectation was declared, for messages. */
export interface SourceLocation {
  file: string;
  line?: number;
}

export interface Suite {
  zone: VersionedZone;
  dataset: string;
  expectations: Expectation[];
  /** The suite file, or where the TypeScript suite was defined, for messages. */
  source: string;
  /** Per expectation (same index), where it was declared. */
  locations?: (SourceLocation | undefined)[];
}

export const ROW_LEVEL_TYPES = [
  "not_null",
  "unique",
  "between",
  "in_set",
  "matches_regex",
  "referential",
  "sql",
] as const;

export function isRowLevel(expectation: Expectation): boolean {
  return (ROW_LEVEL_TYPES as readonly string[]).includes(expectation.type);
}

/** The expectation's name in results: its id, or its type and columns. */
export function expectationName(expectation: Expectation): string {
  if (expectation.id) return expectation.id;
  switch (expectation.type) {
    case "unique":
      return `unique(${expectation.columns.join(", ")})`;
    case "not_null":
    case "between":
    case "in_set":
    case "matches_regex":
    case "column_type":
    case "freshness":
    case "referential":
      return `${expectation.type}(${expectation.column})`;
    default:
      return expectation.type;
  }
}

/** Typed TypeScript declaration of a suite. */
export function defineSuite(spec: {
  zone: VersionedZone;
  dataset: string;
  expectations: Expectation[];
  source?: string;
}): Suite {
  return {
    zone: spec.zone,
    dataset: spec.dataset,
    expectations: spec.expectations,
    source: spec.source ?? `${spec.zone}/${spec.dataset} (TypeScript suite)`,
  };
}

/** Builders, one per expectation type: `expect.notNull("ticker", { severity: "warn" })`. */
export const expectations = {
  notNull: (column: string, options: ExpectationOptions = {}): Expectation => ({
    type: "not_null",
    column,
    ...options,
  }),
  unique: (columns: string | string[], options: ExpectationOptions = {}): Expectation => ({
    type: "unique",
    columns: typeof columns === "string" ? [columns] : columns,
    ...options,
  }),
  between: (
    column: string,
    bounds: { min?: number | string; max?: number | string },
    options: ExpectationOptions = {},
  ): Expectation => ({ type: "between", column, ...bounds, ...options }),
  inSet: (column: string, values: (string | number)[], options: ExpectationOptions = {}): Expectation => ({
    type: "in_set",
    column,
    values,
    ...options,
  }),
  matchesRegex: (column: string, pattern: string, options: ExpectationOptions = {}): Expectation => ({
    type: "matches_regex",
    column,
    pattern,
    ...options,
  }),
  columnType: (column: string, columnType: string, options: ExpectationOptions = {}): Expectation => ({
    type: "column_type",
    column,
    columnType,
    ...options,
  }),
  schema: (
    columns: ColumnSchema[],
    options: ExpectationOptions & { allowAdditional?: boolean } = {},
  ): Expectation => ({ type: "schema", columns, ...options }),
  rowCountBetween: (
    bounds: { min?: number; max?: number },
    options: ExpectationOptions = {},
  ): Expectation => ({ type: "row_count_between", ...bounds, ...options }),
  rowCountChange: (maxPercent: number, options: ExpectationOptions = {}): Expectation => ({
    type: "row_count_change",
    maxPercent,
    ...options,
  }),
  freshness: (column: string, maxAgeDays: number, options: ExpectationOptions = {}): Expectation => ({
    type: "freshness",
    column,
    maxAgeDays,
    ...options,
  }),
  referential: (
    column: string,
    to: { zone: VersionedZone; dataset: string; column?: string },
    options: ExpectationOptions = {},
  ): Expectation => ({ type: "referential", column, to, ...options }),
  sql: (predicate: string, options: ExpectationOptions = {}): Expectation => ({
    type: "sql",
    predicate,
    ...options,
  }),
};
