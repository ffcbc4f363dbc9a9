/**
 * Suite checks against a dataset's schema, run before any data is read: a missing column, an
 * expectation that does not fit a column's type, an invalid regular expression (checked by
 * DuckDB's own regex engine) or a SQL predicate that does not compile rejects the whole suite,
 * with the suite file, the expectation and the reason.
 */
import { QualityError } from "../errors.ts";
import type { ColumnSchema } from "../lake/index.ts";
import { type Db, describeSqlError, quoteIdentifier } from "../pipeline/index.ts";
import { type Expectation, type Suite, expectationName, isRowLevel } from "./suite.ts";

export type TypeKind = "number" | "temporal" | "string" | "other";

export function typeKind(type: string): TypeKind {
  const t = type.toUpperCase();
  if (
    /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/.test(
      t,
    )
  )
    return "number";
  if (/^(DATE|TIMESTAMP)/.test(t)) return "temporal";
  if (t === "VARCHAR") return "string";
  return "other";
}

/** Schemas of the datasets that referential expectations point at (undefined: no version). */
export type ReferencedSchemas = Map<string, ColumnSchema[] | undefined>;

export function referenceKey(to: { zone: string; dataset: string }): string {
  return `${to.zone}/${to.dataset}`;
}

/** Throws QualityError naming every problem of `suite` against `schema`; see module doc. */
export async function checkSuite(
  db: Db,
  suite: Suite,
  schema: ColumnSchema[],
  referenced: ReferencedSchemas = new Map(),
): Promise<void> {
  const problems: string[] = [];
  const types = new Map(schema.map((c) => [c.name, c.type]));
  // An empty table of the dataset's shape: predicates are compiled against it, no data is read.
  await db.run(
    `CREATE OR REPLACE TEMP TABLE _lakebook_shape (${schema.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(", ")})`,
  );
  for (const [index, expectation] of suite.expectations.entries()) {
    const reasons = await expectationProblems(db, expectation, types, referenced);
    const location = suite.locations?.[index];
    const where = location?.line ? `${location.file}:${location.line}` : suite.source;
    for (const reason of reasons) {
      problems.push(`${where}: expectation ${index + 1} (${expectationName(expectation)}): ${reason}`);
    }
  }
  if (problems.length > 0) {
    throw new QualityError(
      `suite for ${suite.zone}/${suite.dataset} does not fit the dataset (columns: ${schema
        .map((c) => `${c.name} ${c.type}`)
        .join(", ")}); fix the suite:\n  ${problems.join("\n  ")}`,
    );
  }
}

async function expectationProblems(
  db: Db,
  e: Expectation,
  types: Map<string, string>,
  referenced: ReferencedSchemas,
): Promise<string[]> {
  const problems: string[] = [];
  const need = (column: string): string | undefined => {
    const type = types.get(column);
    if (type === undefined) problems.push(`column '${column}' does not exist`);
    return type;
  };
  if (e.quarantine && !isRowLevel(e)) problems.push(`quarantine applies to row-level expectations only`);
  if (e.mostly !== undefined && !isRowLevel(e))
    problems.push(`mostly applies to row-level expectations only`);
  switch (e.type) {
    case "not_null":
      need(e.column);
      break;
    case "unique":
      e.columns.forEach(need);
      break;
    case "between": {
      const type = need(e.column);
      if (type === undefined) break;
      const kind = typeKind(type);
      for (const bound of [e.min, e.max]) {
        if (bound === undefined) continue;
        if (kind === "number" && typeof bound !== "number")
          problems.push(`column '${e.column}' is ${type}: give numeric bounds, got '${bound}'`);
        else if (kind === "temporal" && typeof bound !== "string")
          problems.push(`column '${e.column}' is ${type}: give dates as 'YYYY-MM-DD', got ${bound}`);
        else if (kind !== "number" && kind !== "temporal")
          problems.push(`between needs a numeric or date column, '${e.column}' is ${type}`);
      }
      if (typeof e.min === typeof e.max && e.min !== undefined && e.max !== undefined && e.min > e.max)
        problems.push(`min ${e.min} is greater than max ${e.max}`);
      break;
    }
    case "in_set": {
      const type = need(e.column);
      if (type === undefined) break;
      const kind = typeKind(type);
      const wrong = e.values.filter((v) =>
        kind === "number" ? typeof v !== "number" : typeof v !== "string",
      );
      if (wrong.length > 0)
        problems.push(
          `column '${e.column}' is ${type}, but the set holds ${wrong.map((v) => JSON.stringify(v)).join(", ")}`,
        );
      break;
    }
    case "matches_regex": {
      const type = need(e.column);
      if (type !== undefined && typeKind(type) !== "string")
        problems.push(`matches_regex needs a VARCHAR column, '${e.column}' is ${type}`);
      try {
        await db.all("SELECT regexp_matches('', $pattern) AS ok", { pattern: e.pattern });
      } catch (error) {
        problems.push(`invalid regular expression '${e.pattern}': ${firstLine(error)}`);
      }
      break;
    }
    case "freshness": {
      const type = need(e.column);
      if (type !== undefined && typeKind(type) !== "temporal")
        problems.push(`freshness needs a DATE or TIMESTAMP column, '${e.column}' is ${type}`);
      break;
    }
    case "referential": {
      const type = need(e.column);
      const target = referenced.get(referenceKey(e.to));
      const targetColumn = e.to.column ?? e.column;
      if (target === undefined) {
        problems.push(`${referenceKey(e.to)} has no version to check against: promote it first`);
        break;
      }
      const targetType = target.find((c) => c.name === targetColumn)?.type;
      if (targetType === undefined) problems.push(`${referenceKey(e.to)} has no column '${targetColumn}'`);
      else if (type !== undefined && typeKind(type) !== typeKind(targetType))
        problems.push(`'${e.column}' is ${type} but ${referenceKey(e.to)}.${targetColumn} is ${targetType}`);
      break;
    }
    case "sql":
      // One expression, not statements: a ';' could end the validation query and start another.
      if (e.predicate.includes(";")) {
        problems.push(`the predicate must be one SQL expression without ';'`);
        break;
      }
      try {
        await db.all(`SELECT CAST((${e.predicate}) AS BOOLEAN) AS ok FROM _lakebook_shape LIMIT 0`);
      } catch (error) {
        problems.push(`the predicate does not compile: ${describeSqlError(error, e.predicate)}`);
      }
      break;
    case "row_count_between":
      if (e.min !== undefined && e.max !== undefined && e.min > e.max)
        problems.push(`min ${e.min} is greater than max ${e.max}`);
      break;
    case "column_type":
    case "schema":
    case "row_count_change":
      // These check the schema or the version history: a mismatch is a result, not a bad suite.
      break;
  }
  return problems;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
