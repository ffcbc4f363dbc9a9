/**
 * Running a suite against rows already visible to DuckDB (a committed version's files or a
 * promotion candidate): the suite is checked against the schema first (check.ts), then ONE
 * aggregate query evaluates every expectation and, only when something failed, one more query
 * collects sample failing rows. Results follow Great Expectations' shape: per expectation
 * success, observed value, element count, unexpected count and percent, sample rows.
 */
import type { ColumnSchema } from "../lake/index.ts";
import { QualityError } from "../errors.ts";
import { type Db, describeSqlError } from "../pipeline/index.ts";
import { type ReferencedSchemas, checkSuite, typeKind } from "./check.ts";
import { type CompileContext, Params, aggregateQuery, alias, failingRow, samplesQuery } from "./compile.ts";
import { type Expectation, type Severity, type Suite, expectationName, isRowLevel } from "./suite.ts";

export type QualityStatus = "pass" | "warn" | "fail";

/** One expectation's outcome (GX: ExpectationValidationResult). */
export interface ExpectationResult {
  expectation: string;
  type: Expectation["type"];
  severity: Severity;
  success: boolean;
  /** The declaration, as written in the suite. */
  kwargs: Expectation;
  /** `file:line` of the declaration, when it came from a suite file. */
  location?: string;
  observedValue: unknown;
  /** Rows the expectation looked at (non-null values for column checks); null when not row-level. */
  elementCount: number | null;
  unexpectedCount: number | null;
  unexpectedPercent: number | null;
  /** Up to 20 failing rows (GX: partial_unexpected_list, whole rows here). */
  sampleRows: Record<string, unknown>[];
  /** Rows routed to quarantine for this expectation (they are not in the promoted version). */
  quarantinedCount?: number;
  /** Why it failed, in words. */
  message?: string;
}

export interface ValidationReport {
  status: QualityStatus;
  /** False when any `fail` expectation failed. */
  success: boolean;
  rowCount: number;
  statistics: {
    evaluated: number;
    successful: number;
    unsuccessful: number;
    successPercent: number;
  };
  results: ExpectationResult[];
  runTimeMs: number;
  validatedAt: string;
}

export interface ValidateOptions {
  relation: string;
  schema: ColumnSchema[];
  /** Row count of the previous version, for row_count_change (null: first version). */
  previousRowCount?: number | null;
  references?: Map<string, string>;
  referencedSchemas?: ReferencedSchemas;
  /** The caller already ran `checkSuite` against this schema. */
  checked?: boolean;
  now?: () => Date;
}

const DAY_MS = 86_400_000;

export async function validateRelation(
  db: Db,
  suite: Suite,
  options: ValidateOptions,
): Promise<ValidationReport> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  if (!options.checked) await checkSuite(db, suite, options.schema, options.referencedSchemas);
  const context: CompileContext = {
    relation: options.relation,
    schema: options.schema,
    references: options.references ?? new Map(),
  };
  const aggregate = aggregateQuery(suite, context);
  const [row = {}] = await db
    .all(aggregate.sql, aggregate.params.values)
    .catch((error: unknown) => runtimeError(db, suite, context, error));
  const rowCount = Number(row.n ?? 0);
  const results = suite.expectations.map((e, i) =>
    evaluate(e, i, row, rowCount, options, now(), suite.locations?.[i]),
  );
  const withUnexpected = results.flatMap((r, i) => ((r.unexpectedCount ?? 0) > 0 ? [i] : []));
  const samples = samplesQuery(suite, withUnexpected, context);
  if (samples) {
    const rows = await db
      .all(samples.sql, samples.params.values)
      .catch((error: unknown) => runtimeError(db, suite, context, error));
    for (const sample of rows) {
      const { _lakebook_expectation: index, ...rest } = sample;
      results[Number(index)]?.sampleRows.push(rest);
    }
  }
  return summarize(results, rowCount, performance.now() - started, now());
}

/**
 * A suite whose checks compiled but failed while running (a predicate casting a value that does
 * not convert, reading a file it may not): the failing `sql` expectation is found by running each
 * alone, and named with a message that quotes no data.
 */
async function runtimeError(db: Db, suite: Suite, context: CompileContext, error: unknown): Promise<never> {
  for (const [index, e] of suite.expectations.entries()) {
    if (e.type !== "sql") continue;
    const params = new Params();
    const alone = `SELECT count(*) FILTER (WHERE ${failingRow(e, context, params)}) AS n FROM ${context.relation}`;
    const failed = await db.all(alone, params.values).then(
      () => undefined,
      (cause: unknown) => cause,
    );
    if (failed === undefined) continue;
    const location = suite.locations?.[index];
    const where = location?.line ? `${location.file}:${location.line}` : suite.source;
    throw new QualityError(
      `${where}: expectation ${index + 1} (${expectationName(e)}) failed to run on ${suite.zone}/${suite.dataset}: ` +
        `${describeSqlError(failed, e.predicate)}; fix the predicate (TRY_CAST gives NULL instead of an error)`,
      { cause: failed },
    );
  }
  throw new QualityError(
    `the checks of ${suite.source} failed to run on ${suite.zone}/${suite.dataset}: ${describeSqlError(error, "")}`,
    { cause: error },
  );
}

export function summarize(
  results: ExpectationResult[],
  rowCount: number,
  runTimeMs: number,
  validatedAt: Date,
): ValidationReport {
  const failed = results.filter((r) => !r.success);
  const status: QualityStatus = failed.some((r) => r.severity === "fail")
    ? "fail"
    : failed.length > 0
      ? "warn"
      : "pass";
  return {
    status,
    success: status !== "fail",
    rowCount,
    statistics: {
      evaluated: results.length,
      successful: results.length - failed.length,
      unsuccessful: failed.length,
      successPercent:
        results.length === 0 ? 100 : round(((results.length - failed.length) / results.length) * 100),
    },
    results,
    runTimeMs: Math.round(runTimeMs),
    validatedAt: validatedAt.toISOString(),
  };
}

function evaluate(
  e: Expectation,
  i: number,
  row: Record<string, unknown>,
  rowCount: number,
  options: ValidateOptions,
  now: Date,
  location: { file: string; line?: number } | undefined,
): ExpectationResult {
  const base = {
    expectation: expectationName(e),
    type: e.type,
    severity: e.severity ?? "fail",
    kwargs: e,
    ...(location?.line && { location: `${location.file}:${location.line}` }),
    sampleRows: [],
  } satisfies Partial<ExpectationResult>;
  const outcome = (success: boolean, observedValue: unknown, message?: string): ExpectationResult => ({
    ...base,
    success,
    observedValue,
    elementCount: null,
    unexpectedCount: null,
    unexpectedPercent: null,
    ...(!success && message && { message }),
  });
  if (isRowLevel(e)) {
    const elements = row[alias.elements(i)] === undefined ? rowCount : Number(row[alias.elements(i)]);
    const unexpected = Number(row[alias.unexpected(i)] ?? 0);
    const percent = elements === 0 ? 0 : (unexpected / elements) * 100;
    const mostly = e.mostly ?? 1;
    const success = elements === 0 || unexpected / elements <= 1 - mostly + 1e-12;
    return {
      ...base,
      success,
      observedValue: unexpected === 0 ? "all rows pass" : `${unexpected} of ${elements} rows fail`,
      elementCount: elements,
      unexpectedCount: unexpected,
      unexpectedPercent: round(percent),
      ...(!success && {
        message: `${unexpected} of ${elements} rows (${round(percent)}%) fail${mostly < 1 ? `, more than the ${round((1 - mostly) * 100)}% allowed by mostly ${mostly}` : ""}`,
      }),
    };
  }
  switch (e.type) {
    case "column_type": {
      const actual = options.schema.find((c) => c.name === e.column)?.type ?? null;
      return outcome(
        actual === e.columnType,
        actual,
        actual === null
          ? `column '${e.column}' is missing`
          : `'${e.column}' is ${actual}, expected ${e.columnType}`,
      );
    }
    case "schema": {
      const actual = new Map(options.schema.map((c) => [c.name, c.type]));
      const missing = e.columns.filter((c) => !actual.has(c.name)).map((c) => c.name);
      const changed = e.columns
        .filter((c) => actual.has(c.name) && actual.get(c.name) !== c.type)
        .map((c) => `${c.name} ${c.type} -> ${actual.get(c.name)}`);
      const declared = new Set(e.columns.map((c) => c.name));
      const extra = options.schema.filter((c) => !declared.has(c.name)).map((c) => c.name);
      const problems = [
        missing.length > 0 && `missing ${missing.join(", ")}`,
        changed.length > 0 && `changed ${changed.join(", ")}`,
        extra.length > 0 && !e.allowAdditional && `unexpected ${extra.join(", ")}`,
      ].filter(Boolean);
      return outcome(
        problems.length === 0,
        options.schema.map((c) => `${c.name} ${c.type}`),
        `schema differs: ${problems.join("; ")}`,
      );
    }
    case "row_count_between": {
      const success =
        (e.min === undefined || rowCount >= e.min) && (e.max === undefined || rowCount <= e.max);
      return outcome(success, rowCount, `${rowCount} rows, expected ${e.min ?? 0} to ${e.max ?? "any"}`);
    }
    case "row_count_change": {
      const previous = options.previousRowCount ?? null;
      if (previous === null) return outcome(true, null);
      const change =
        previous === 0 ? (rowCount === 0 ? 0 : Infinity) : ((rowCount - previous) / previous) * 100;
      return outcome(
        Math.abs(change) <= e.maxPercent,
        round(change),
        `row count changed by ${round(change)}% (${previous} -> ${rowCount}), more than ${e.maxPercent}%`,
      );
    }
    case "freshness": {
      const latest = row[alias.maxValue(i)];
      const epoch = row[alias.maxEpochMs(i)];
      if (latest === null || latest === undefined) return outcome(false, null, `'${e.column}' has no values`);
      const type = options.schema.find((c) => c.name === e.column)?.type ?? "";
      const kind = typeKind(type);
      // A DATE is a whole day: on 2024-04-15 (any time of day), 2024-04-10 is 5 days old.
      const exact = (now.getTime() - Number(epoch)) / DAY_MS;
      const ageDays = type === "DATE" ? Math.floor(exact) : exact;
      return outcome(
        kind === "temporal" && ageDays <= e.maxAgeDays,
        latest,
        `newest ${e.column} is ${latest}, ${Math.floor(ageDays)} days before ${now.toISOString().slice(0, 10)} (at most ${e.maxAgeDays} allowed)`,
      );
    }
    default:
      return outcome(false, null, `unsupported expectation type`);
  }
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
}
