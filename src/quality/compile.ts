/**
 * Compiling a suite to SQL. All expectations are evaluated by ONE aggregate query over the
 * dataset version: row-level checks become `count(*) FILTER (WHERE <row fails>)` terms of a
 * single scan, uniqueness and referential checks are scalar subqueries of that same statement,
 * and schema, row-count-change and freshness are decided from the aggregate's results. A second
 * query collects up to SAMPLE_ROWS failing rows of each failed row-level expectation.
 *
 * Values are bound as parameters (a fresh set per statement: DuckDB rejects unused ones);
 * identifiers go through `quoteIdentifier`. Custom `sql` predicates are SQL by design, written by
 * the suite's author like the pipeline's own SQL, and checked to compile before they run.
 */
import type { DuckDBValue } from "@duckdb/node-api";
import type { ColumnSchema } from "../lake/index.ts";
import { quoteIdentifier } from "../pipeline/index.ts";
import { referenceKey } from "./check.ts";
import type { Expectation, Suite } from "./suite.ts";

export const SAMPLE_ROWS = 20;

/** Collects the parameters of one statement. */
export class Params {
  readonly values: Record<string, DuckDBValue> = {};
  private next = 0;
  bind(value: DuckDBValue, type?: string): string {
    const name = `p${this.next++}`;
    this.values[name] = value;
    return type ? `CAST($${name} AS ${type})` : `$${name}`;
  }
}

export interface CompileContext {
  /** The relation holding the rows (a table name or a table function call). */
  relation: string;
  schema: ColumnSchema[];
  /** Relations of the datasets referential expectations point at, by `zone/dataset`. */
  references: Map<string, string>;
}

const q = quoteIdentifier;

function columnType(context: CompileContext, column: string): string {
  return context.schema.find((c) => c.name === column)?.type ?? "VARCHAR";
}

/** The condition under which a row fails a row-level expectation; undefined for dataset-level ones. */
export function failingRow(e: Expectation, context: CompileContext, params: Params): string | undefined {
  switch (e.type) {
    case "not_null":
      return `${q(e.column)} IS NULL`;
    case "between": {
      const type = columnType(context, e.column);
      const outside = [
        e.min !== undefined && `${q(e.column)} < ${params.bind(e.min, type)}`,
        e.max !== undefined && `${q(e.column)} > ${params.bind(e.max, type)}`,
      ].filter(Boolean);
      return `(${q(e.column)} IS NOT NULL AND (${outside.join(" OR ")}))`;
    }
    case "in_set": {
      const type = columnType(context, e.column);
      return `(${q(e.column)} IS NOT NULL AND ${q(e.column)} NOT IN (${e.values.map((v) => params.bind(v, type)).join(", ")}))`;
    }
    case "matches_regex":
      return `(${q(e.column)} IS NOT NULL AND NOT regexp_matches(${q(e.column)}, ${params.bind(e.pattern)}))`;
    case "referential": {
      const target = context.references.get(referenceKey(e.to));
      const column = q(e.to.column ?? e.column);
      return `(${q(e.column)} IS NOT NULL AND ${q(e.column)} NOT IN (SELECT ${column} FROM ${target} WHERE ${column} IS NOT NULL))`;
    }
    case "sql":
      return `NOT coalesce(CAST((${e.predicate}) AS BOOLEAN), false)`;
    case "unique":
      // Needs the window column added by `withDuplicateCounts`.
      return `(${e.columns.map((c) => `${q(c)} IS NOT NULL`).join(" AND ")} AND ${duplicateColumn(e)} > 1)`;
    default:
      return undefined;
  }
}

function duplicateColumn(e: Expectation & { type: "unique" }): string {
  return q(`_lakebook_dups_${e.columns.join("_")}`);
}

/** `relation` with a window count per unique key, so `failingRow` works for unique expectations. */
export function withDuplicateCounts(
  relation: string,
  expectations: Expectation[],
): { sql: string; added: string[] } {
  const unique = expectations.filter((e): e is Expectation & { type: "unique" } => e.type === "unique");
  const added = [...new Set(unique.map(duplicateColumn))];
  if (added.length === 0) return { sql: `SELECT * FROM ${relation}`, added };
  const windows = unique.map(
    (e) => `count(*) OVER (PARTITION BY ${e.columns.map(q).join(", ")}) AS ${duplicateColumn(e)}`,
  );
  return { sql: `SELECT *, ${[...new Set(windows)].join(", ")} FROM ${relation}`, added };
}

/** Column aliases of the aggregate query for expectation `i`. */
export const alias = {
  unexpected: (i: number) => `u${i}`,
  elements: (i: number) => `e${i}`,
  maxValue: (i: number) => `m${i}`,
  maxEpochMs: (i: number) => `t${i}`,
};

/** The one aggregate statement for the whole suite. */
export function aggregateQuery(suite: Suite, context: CompileContext): { sql: string; params: Params } {
  const params = new Params();
  const terms = ["count(*) AS n"];
  suite.expectations.forEach((e, i) => {
    switch (e.type) {
      case "not_null":
      case "sql":
        terms.push(`count(*) FILTER (WHERE ${failingRow(e, context, params)}) AS ${alias.unexpected(i)}`);
        break;
      case "between":
      case "in_set":
      case "matches_regex":
      case "referential":
        terms.push(`count(${q(e.column)}) AS ${alias.elements(i)}`);
        terms.push(`count(*) FILTER (WHERE ${failingRow(e, context, params)}) AS ${alias.unexpected(i)}`);
        break;
      case "unique": {
        const present = e.columns.map((c) => `${q(c)} IS NOT NULL`).join(" AND ");
        terms.push(`count(*) FILTER (WHERE ${present}) AS ${alias.elements(i)}`);
        // Every row whose key occurs more than once is unexpected (as in Great Expectations).
        terms.push(
          `(SELECT coalesce(sum(k), 0) FROM (SELECT count(*) AS k FROM ${context.relation} WHERE ${present} ` +
            `GROUP BY ${e.columns.map(q).join(", ")} HAVING count(*) > 1)) AS ${alias.unexpected(i)}`,
        );
        break;
      }
      case "freshness":
        terms.push(`CAST(max(${q(e.column)}) AS VARCHAR) AS ${alias.maxValue(i)}`);
        terms.push(`epoch_ms(CAST(max(${q(e.column)}) AS TIMESTAMP)) AS ${alias.maxEpochMs(i)}`);
        break;
      default:
        break;
    }
  });
  return { sql: `SELECT ${terms.join(",\n  ")}\nFROM ${context.relation}`, params };
}

/** One statement returning up to SAMPLE_ROWS failing rows per listed expectation. */
export function samplesQuery(
  suite: Suite,
  indices: number[],
  context: CompileContext,
): { sql: string; params: Params } | undefined {
  if (indices.length === 0) return undefined;
  const params = new Params();
  const parts = indices.map((i) => {
    const e = suite.expectations[i]!;
    const { sql, added } = withDuplicateCounts(context.relation, e.type === "unique" ? [e] : []);
    const exclude = added.length > 0 ? ` EXCLUDE (${added.join(", ")})` : "";
    const order = e.type === "unique" ? ` ORDER BY ${e.columns.map(q).join(", ")}` : "";
    return `(SELECT ${i} AS _lakebook_expectation, *${exclude} FROM (${sql}) WHERE ${failingRow(e, context, params)}${order} LIMIT ${SAMPLE_ROWS})`;
  });
  return { sql: parts.join("\nUNION ALL\n"), params };
}

/**
 * `relation` with a `_lakebook_reason` column naming the quarantined expectations each row fails
 * (NULL for clean rows).
 */
export function flaggedQuery(
  suite: Suite,
  indices: number[],
  names: string[],
  context: CompileContext,
): { sql: string; params: Params } {
  const params = new Params();
  const expectations = indices.map((i) => suite.expectations[i]!);
  const { sql, added } = withDuplicateCounts(context.relation, expectations);
  const reasons = indices.map(
    (i, n) =>
      `CASE WHEN ${failingRow(suite.expectations[i]!, context, params)} THEN ${params.bind(names[n]!)} END`,
  );
  const exclude = added.length > 0 ? ` EXCLUDE (${added.join(", ")})` : "";
  return {
    sql: `SELECT *${exclude}, nullif(concat_ws('; ', ${reasons.join(", ")}), '') AS _lakebook_reason FROM (${sql})`,
    params,
  };
}
