/**
 * Suite files: `quality/<zone>.<dataset>.yaml` (or `.yml`, `.json`) in the project root. Files are
 * parsed with `yaml` (JSON is read by the same parser, so both keep line numbers) and validated
 * with zod; an error names the file, the line and the expectation, and says what to fix.
 *
 * ```yaml
 * zone: curated
 * dataset: prices
 * expectations:
 *   - type: between
 *     column: close
 *     min: 0.0001
 *     severity: fail
 * ```
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { LineCounter, isNode, parseDocument } from "yaml";
import { z } from "zod";
import { QualityError } from "../errors.ts";
import type { VersionedZone } from "../lake/index.ts";
import type { Expectation, Suite } from "./suite.ts";

/** The folder of suite files, relative to the project root. */
export const SUITES_DIR = "quality";
const SUITE_FILE = /^(raw|staging|curated)\.([A-Za-z0-9_-]{1,64})\.(ya?ml|json)$/;

const zone = z.enum(["raw", "staging", "curated"]);
const bound = z.union([
  z.number(),
  z.string().regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/),
]);
const options = {
  id: z.string().min(1).optional(),
  severity: z.enum(["warn", "fail"]).optional(),
  mostly: z.number().gt(0).max(1).optional(),
  quarantine: z.boolean().optional(),
  description: z.string().optional(),
};
const column = z.string().min(1);

const expectationSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("not_null"), column, ...options }),
  z.strictObject({ type: z.literal("unique"), columns: z.array(column).min(1), ...options }),
  z
    .strictObject({
      type: z.literal("between"),
      column,
      min: bound.optional(),
      max: bound.optional(),
      ...options,
    })
    .refine((e) => e.min !== undefined || e.max !== undefined, { message: "give min, max or both" }),
  z.strictObject({
    type: z.literal("in_set"),
    column,
    values: z.array(z.union([z.string(), z.number()])).min(1),
    ...options,
  }),
  z.strictObject({ type: z.literal("matches_regex"), column, pattern: z.string().min(1), ...options }),
  z.strictObject({ type: z.literal("column_type"), column, columnType: z.string().min(1), ...options }),
  z.strictObject({
    type: z.literal("schema"),
    columns: z.array(z.strictObject({ name: column, type: z.string().min(1) })).min(1),
    allowAdditional: z.boolean().optional(),
    ...options,
  }),
  z
    .strictObject({
      type: z.literal("row_count_between"),
      min: z.number().int().min(0).optional(),
      max: z.number().int().min(0).optional(),
      ...options,
    })
    .refine((e) => e.min !== undefined || e.max !== undefined, { message: "give min, max or both" }),
  z.strictObject({ type: z.literal("row_count_change"), maxPercent: z.number().min(0), ...options }),
  z.strictObject({ type: z.literal("freshness"), column, maxAgeDays: z.number().min(0), ...options }),
  z.strictObject({
    type: z.literal("referential"),
    column,
    to: z.strictObject({
      zone,
      dataset: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      column: column.optional(),
    }),
    ...options,
  }),
  z.strictObject({ type: z.literal("sql"), predicate: z.string().min(1), ...options }),
]);

export const EXPECTATION_TYPES = [
  "not_null",
  "unique",
  "between",
  "in_set",
  "matches_regex",
  "column_type",
  "schema",
  "row_count_between",
  "row_count_change",
  "freshness",
  "referential",
  "sql",
] as const;

const suiteSchema = z.strictObject({
  zone,
  dataset: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "use 1 to 64 letters, digits, _ and -"),
  description: z.string().optional(),
  expectations: z.array(z.unknown()).min(1, "a suite needs at least one expectation"),
});

/** Parses and validates suite text; `file` is only used in messages. */
export function parseSuite(text: string, file: string): Suite {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const [syntax] = doc.errors;
  if (syntax) {
    throw new QualityError(
      `${file}:${lineOf(syntax.pos[0]) ?? 1}: not valid YAML/JSON (${syntax.message.split("\n")[0]}); fix the syntax`,
    );
  }
  const nodeLine = (path: (string | number)[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineOf(node.range[0]);
    }
    return undefined;
  };
  const data = doc.toJS() as unknown;
  const top = suiteSchema.safeParse(data);
  if (!top.success) {
    const issue = top.error.issues[0]!;
    throw new QualityError(
      `${file}:${nodeLine(issue.path as (string | number)[]) ?? 1}: ${describePath(issue.path)}${issue.message}; ` +
        `a suite file needs zone, dataset and a list of expectations`,
    );
  }
  const expectations: Expectation[] = [];
  const locations = top.data.expectations.map((_, index) => ({
    file,
    line: nodeLine(["expectations", index]),
  }));
  top.data.expectations.forEach((raw, index) => {
    const parsed = expectationSchema.safeParse(raw);
    if (parsed.success) {
      expectations.push(parsed.data as Expectation);
      return;
    }
    const issue = parsed.error.issues[0]!;
    const path = ["expectations", index, ...(issue.path as (string | number)[])];
    const type = (raw as { type?: unknown } | null)?.type;
    const label = `expectation ${index + 1}${typeof type === "string" ? ` (${type})` : ""}`;
    const message =
      issue.path[0] === "type" || (issue.code === "invalid_union" && issue.path.length === 0)
        ? `unknown expectation type '${String(type)}': use one of ${EXPECTATION_TYPES.join(", ")}`
        : `${describePath(issue.path)}${issue.message}`;
    throw new QualityError(`${file}:${nodeLine(path) ?? 1}: ${label}: ${message}`);
  });
  return {
    zone: top.data.zone as VersionedZone,
    dataset: top.data.dataset,
    expectations,
    source: file,
    locations,
  };
}

function describePath(path: readonly PropertyKey[]): string {
  return path.length > 0 ? `'${path.map(String).join(".")}': ` : "";
}

/** Loads a suite file; `name` is how messages and results refer to it (default: `path`). */
export async function loadSuiteFile(path: string, name: string = path): Promise<Suite> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new QualityError(`cannot read suite file ${path}: ${(error as Error).message}`, { cause: error });
  });
  const suite = parseSuite(text, name);
  const match = SUITE_FILE.exec(path.slice(path.lastIndexOf("/") + 1));
  if (match && (match[1] !== suite.zone || match[2] !== suite.dataset)) {
    throw new QualityError(
      `${name}: the file is named for ${match[1]}/${match[2]} but declares ${suite.zone}/${suite.dataset}; rename the file or fix zone/dataset`,
    );
  }
  return suite;
}

/**
 * The suite file for a dataset in `dir`, named in messages and results as `<dir name>/<file>`
 * (e.g. `quality/curated.prices.yaml`): results are published, local paths are not. Undefined
 * when there is no `<zone>.<dataset>.yaml|yml|json`.
 */
export async function maybeSuite(
  dir: string,
  zone: VersionedZone,
  dataset: string,
): Promise<Suite | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found = names.filter((name) => {
    const match = SUITE_FILE.exec(name);
    return match?.[1] === zone && match[2] === dataset;
  });
  if (found.length > 1) {
    throw new QualityError(
      `${dir} has ${found.length} suites for ${zone}/${dataset} (${found.join(", ")}): keep one`,
    );
  }
  return found[0] === undefined
    ? undefined
    : loadSuiteFile(join(dir, found[0]), join(basename(dir), found[0]));
}

/** Every suite file in `dir`, sorted by file name. */
export async function loadSuites(dir: string): Promise<Suite[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => SUITE_FILE.test(n)).sort();
  return Promise.all(names.map((name) => loadSuiteFile(join(dir, name), join(basename(dir), name))));
}
