/**
 * Pages per entity. A page template names its parameters in its file name and the query that
 * gives their values in its front matter:
 *
 *     notebooks/ticker/[ticker].md
 *     ---
 *     paths: SELECT DISTINCT ticker FROM curated.prices
 *     ---
 *
 * At build time the query runs in DuckDB over the lake datasets it names (each at the version a
 * loader would read: the newest that did not fail its quality gate), sandboxed to their files and
 * wrapped as a subquery, so it can only read. Each row becomes one page path (`/ticker/AAPL`),
 * handed to Framework as `dynamicPaths`; the page reads `observable.params.ticker`, its
 * parameterized loader (`loaders/ticker/[ticker].json.ts`) gets `--ticker=AAPL`. The same from
 * the Framework config: `dynamicPaths: pathsFrom("ticker/[ticker]", "SELECT ...")`.
 *
 * A value becomes a file name and a URL segment, so only letters, digits, `.`, `_`, `~` and `-`
 * are accepted (no `..`, no leading dot); any other value fails the build naming the page and the
 * value, rather than publishing a report with an entity silently missing.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { configFromEnv } from "../config.ts";
import { BuildError } from "../errors.ts";
import { createLake, type Lake } from "../lake/index.ts";
import { parquetRelation, quoteIdentifier, withDb } from "../pipeline/index.ts";
import { findReferences, rewriteSql } from "../project/index.ts";
import { latestGoodVersion } from "../quality/index.ts";

/** A page template and the query giving its parameters. */
export interface EntityPage {
  /** The template's page path without extension, relative to the pages' root: `ticker/[ticker]`. */
  readonly template: string;
  readonly sql: string;
  /** Where the template came from, for messages (`notebooks/ticker/[ticker].md`). */
  readonly source: string;
}

const PARAM = /\[([A-Za-z0-9_]+)\]/g;
const SAFE_VALUE = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,199}$/;
/** More pages than this from one template is surely a query mistake (a missing DISTINCT). */
const MAX_ENTITY_PAGES = 10_000;

/** The parameter names of a template path (`ticker/[ticker]` -> `["ticker"]`). */
export function templateParams(template: string): string[] {
  return [...template.matchAll(PARAM)].map((m) => m[1]!);
}

/** Page templates under `pagesDir` whose front matter sets `paths`. */
export async function findEntityPages(pagesDir: string, label = "notebooks"): Promise<EntityPage[]> {
  const pages: EntityPage[] = [];
  for (const file of await templateFiles(pagesDir)) {
    const path = relative(pagesDir, file).split(sep).join("/");
    const source = `${label}/${path}`;
    const sql = pathsQueryOf(await readFile(file, "utf8"), source);
    if (sql !== undefined) pages.push({ template: path.slice(0, -".md".length), sql, source });
  }
  return pages;
}

/** Every page path of the templates, in order; fails on the first unusable query or value. */
export async function resolveEntityPaths(lake: Lake, pages: readonly EntityPage[]): Promise<string[]> {
  const paths: string[] = [];
  for (const page of pages) paths.push(...(await entityPaths(lake, page)));
  return paths;
}

/** One template's page paths (`/ticker/AAPL`, ...), from its query's rows. */
export async function entityPaths(lake: Lake, page: EntityPage): Promise<string[]> {
  const params = templateParams(page.template);
  if (params.length === 0) {
    throw new BuildError(
      `${page.source}: 'paths' needs a page named with parameters in brackets, e.g. notebooks/ticker/[ticker].md`,
    );
  }
  const rows = await queryLake(lake, page.sql, page.source);
  const missing = params.filter((name) => rows.columns.every((column) => column !== name));
  if (missing.length > 0) {
    throw new BuildError(
      `${page.source}: the 'paths' query must return a column for each parameter (${params.join(", ")}); ` +
        `missing ${missing.join(", ")} (it returns ${rows.columns.join(", ") || "no columns"}): name them with AS`,
    );
  }
  if (rows.values.length > MAX_ENTITY_PAGES) {
    throw new BuildError(
      `${page.source}: the 'paths' query gives ${rows.values.length} pages, more than ${MAX_ENTITY_PAGES}: ` +
        `select DISTINCT values or fewer entities`,
    );
  }
  const paths = new Set<string>();
  for (const row of rows.values) {
    const path = page.template.replace(PARAM, (_, name: string) =>
      checkedValue(row[name], name, page.source),
    );
    paths.add(`/${path}`);
  }
  return [...paths].sort();
}

function checkedValue(value: unknown, name: string, source: string): string {
  const fix =
    `page names take letters, digits, '.', '_', '~' and '-': map the value in the query, e.g. ` +
    `regexp_replace(${name}, '[^A-Za-z0-9._~-]+', '-', 'g') AS ${name}, or leave such rows out with WHERE`;
  if (value === null || value === undefined) {
    throw new BuildError(
      `${source}: the 'paths' query gave ${name} = NULL, which cannot name a page; ${fix}`,
    );
  }
  const text = String(value);
  if (!SAFE_VALUE.test(text) || text.includes("..")) {
    const why = text.includes("/")
      ? "it holds '/'"
      : text.includes("..")
        ? "it holds '..'"
        : text === ""
          ? "it is empty"
          : text.length > 200
            ? "it is longer than 200 characters"
            : "it holds characters a URL would have to escape";
    throw new BuildError(
      `${source}: the 'paths' query gave ${name} = ${JSON.stringify(text)}, which cannot name a page (${why}); ${fix}`,
    );
  }
  return text;
}

/**
 * A `dynamicPaths` for the Framework config: the pages of `template` (`ticker/[ticker]`) for
 * each row of `sql`, resolved when Framework asks, against the lake of the build.
 */
export function pathsFrom(template: string, sql: string): () => Promise<string[]> {
  const clean = template.replace(/^\/+/, "").replace(/\.md$/, "");
  return () =>
    entityPaths(createLake(configFromEnv()), { template: clean, sql, source: `pathsFrom("${template}")` });
}

/**
 * Framework's `dynamicPaths` as Framework needs it (a function returning an async iterable):
 * also accepts a plain or async function returning an array or any iterable, and an array.
 */
export function normalizeDynamicPaths(spec: unknown): () => AsyncGenerator<string> {
  if (spec === undefined || spec === null) return async function* () {};
  if (typeof spec === "function") {
    return async function* () {
      const result: unknown = await (spec as () => unknown)();
      if (result === undefined || result === null) return;
      if (typeof result === "string") {
        yield result;
        return;
      }
      if (typeof result === "object" && (Symbol.asyncIterator in result || Symbol.iterator in result)) {
        for await (const path of result as AsyncIterable<unknown>) yield String(path);
        return;
      }
      throw new BuildError(
        `dynamicPaths returned ${typeof result}: return an array of page paths such as ["/ticker/AAPL"], ` +
          `or use an async generator`,
      );
    };
  }
  if (typeof spec === "object" && Symbol.iterator in spec) {
    const paths = Array.from(spec as Iterable<unknown>, String);
    return async function* () {
      yield* paths;
    };
  }
  throw new BuildError(`dynamicPaths must be an array of page paths or a function, got ${typeof spec}`);
}

/** Several `dynamicPaths` sources as one. */
export function concatDynamicPaths(
  ...sources: (() => AsyncIterable<string>)[]
): () => AsyncGenerator<string> {
  return async function* () {
    for (const source of sources) yield* source();
  };
}

/** Runs a read-only query over lake datasets named in it (`curated.prices`). */
async function queryLake(
  lake: Lake,
  sql: string,
  source: string,
): Promise<{ columns: string[]; values: Record<string, unknown>[] }> {
  const refs = findReferences(sql);
  if (refs.length === 0) {
    throw new BuildError(
      `${source}: the 'paths' query reads no lake dataset: name one as <zone>.<dataset>, e.g. SELECT DISTINCT ticker FROM curated.prices`,
    );
  }
  const views = new Map<string, string[]>();
  for (const ref of refs) {
    const name = `${ref.zone}.${ref.dataset}`;
    if (views.has(name)) continue;
    const manifest = await latestGoodVersion(lake, ref.zone, ref.dataset);
    if (!manifest) {
      throw new BuildError(
        `${source}: the 'paths' query reads ${name}, which has no version that passed its checks: run \`lakebook run +${name}\` first`,
      );
    }
    views.set(name, await Promise.all(manifest.files.map((f) => lake.storage.localPath(f.key))));
  }
  let rewritten: string;
  try {
    rewritten = rewriteSql(sql, refs, (line) => `${source}: 'paths' line ${line}`);
  } catch (error) {
    throw new BuildError((error as Error).message, { cause: error });
  }
  const files = [...views.values()].flat();
  return withDb(
    async (db) => {
      for (const [name, paths] of views) {
        await db.run(`CREATE VIEW ${quoteIdentifier(name)} AS SELECT * FROM ${parquetRelation(paths)}`);
      }
      const query = `SELECT * FROM (${rewritten}) LIMIT ${MAX_ENTITY_PAGES + 1}`;
      try {
        const columns = (await db.columns(`(${query})`)).map((c) => c.name);
        return { columns, values: await db.all(query) };
      } catch (error) {
        const message = String((error as Error).message).split("\n")[0];
        throw new BuildError(`${source}: the 'paths' query failed: ${message}`, { cause: error });
      }
    },
    { access: { files } },
  );
}

/** The `paths` query of a page's front matter, or undefined when it sets none. */
function pathsQueryOf(markdown: string, source: string): string | undefined {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(markdown);
  if (!match) return undefined;
  let front: unknown;
  try {
    front = parseYaml(match[1]!);
  } catch {
    return undefined; // pageAccess.ts reports invalid front matter with its line
  }
  if (typeof front !== "object" || front === null || !("paths" in front)) return undefined;
  const paths = (front as { paths: unknown }).paths;
  if (typeof paths !== "string" || paths.trim() === "") {
    throw new BuildError(
      `${source}: front matter 'paths' must be one SQL query, e.g. paths: SELECT DISTINCT ticker FROM curated.prices`,
    );
  }
  return paths;
}

/** Markdown pages with a `[` in their path, skipping what Framework does not build. */
async function templateFiles(dir: string, inTemplate = false): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name.startsWith("_") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    const template = inTemplate || entry.name.includes("[");
    if (entry.isDirectory()) found.push(...(await templateFiles(path, template)));
    else if (entry.isFile() && entry.name.endsWith(".md") && template) found.push(path);
  }
  return found;
}
