/**
 * Source definitions: one file per source in a project's `sources/` folder, whose default export
 * is made with `defineSource`. The file's name is the source's name (`sources/quotes.ts` is the
 * source `quotes`) and, unless `dataset` says otherwise, the raw dataset it fills (`raw.quotes`).
 *
 * Every kind lands its bytes exactly as fetched (landing zone) and then parses them into a typed
 * raw version: CSV with declared columns, JSON/NDJSON and API pages with declared or text columns,
 * Parquet (and PostgreSQL results) with the file's exact types, HTML and browser tables as text
 * unless columns are declared. Rows that do not fit are rejected with their line numbers.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { normalizeName } from "../lake/index.ts";
import { type CsvColumn, normalizeCsvSpec, parseColumnList } from "../pipeline/index.ts";
import type {
  ApiSourceSpec,
  BrowserSourceSpec,
  HtmlSourceSpec,
  PostgresSourceSpec,
} from "../sources/index.ts";

/** Declared columns: a list of `{name, type, format?, nullable?}` or `"name:TYPE[:format],..."`. */
export type ColumnsInput = string | { name: string; type: string; format?: string; nullable?: boolean }[];

interface Common {
  /** The raw dataset this source fills; the source's name when omitted. */
  dataset?: string;
  description?: string;
  owner?: string;
}

export type FileFormat = "csv" | "json" | "ndjson" | "parquet";

export interface FileSourceDefinition extends Common {
  kind: "file";
  /** A local file, relative to the project root (or absolute). */
  path?: string;
  /** Or a URL fetched with GET. */
  url?: string;
  /** Taken from the file name's extension when omitted (`.jsonl` is NDJSON). */
  format?: FileFormat;
  /** Required for CSV; optional for JSON (text columns) and Parquet (the file's own types). */
  columns?: ColumnsInput;
  /** CSV only. */
  delimiter?: string;
  /** JSON only: where the records are in the document, e.g. `data`. */
  itemsPath?: string;
}

export interface ApiSourceDefinition extends Common, Omit<ApiSourceSpec, "source"> {
  kind: "api";
  columns?: ColumnsInput;
}

export interface HtmlSourceDefinition extends Common, Omit<HtmlSourceSpec, "source"> {
  kind: "html";
  columns?: ColumnsInput;
}

export interface BrowserSourceDefinition extends Common, Omit<BrowserSourceSpec, "source"> {
  kind: "browser";
  columns?: ColumnsInput;
}

export interface PostgresSourceDefinition
  extends Common, Omit<PostgresSourceSpec, "source" | "connectionString"> {
  kind: "postgres";
  /** postgres://...; the config's DATABASE_URL when omitted. */
  connectionString?: string;
  columns?: ColumnsInput;
}

export type SourceDefinition =
  | FileSourceDefinition
  | ApiSourceDefinition
  | HtmlSourceDefinition
  | BrowserSourceDefinition
  | PostgresSourceDefinition;

/** Typed helper for `sources/<name>.ts`: `export default defineSource({ kind: "file", ... })`. */
export function defineSource<T extends SourceDefinition>(definition: T): T {
  return definition;
}

/** A validated source: its name, raw dataset, kind-specific spec and declared columns. */
export interface ProjectSource {
  name: string;
  /** Where it was declared (for messages). */
  file: string;
  dataset: string;
  definition: SourceDefinition;
  columns?: CsvColumn[];
  /** File sources: the resolved format. */
  format?: FileFormat;
}

const columnsSchema = z.union([
  z.string(),
  z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      format: z.string().optional(),
      nullable: z.boolean().optional(),
    }),
  ),
]);

const common = {
  dataset: z.string().optional(),
  description: z.string().optional(),
  owner: z.string().optional(),
  columns: columnsSchema.optional(),
};

const sourceSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("file"),
      ...common,
      path: z.string().min(1).optional(),
      url: z.string().url().optional(),
      format: z.enum(["csv", "json", "ndjson", "parquet"]).optional(),
      delimiter: z.string().length(1).optional(),
      itemsPath: z.string().optional(),
    })
    .strict(),
  z.object({ kind: z.literal("api"), ...common, url: z.string().url() }).passthrough(),
  z
    .object({
      kind: z.literal("html"),
      ...common,
      url: z.string().url(),
      extract: z.object({}).passthrough(),
    })
    .passthrough(),
  z
    .object({
      kind: z.literal("browser"),
      ...common,
      urls: z.array(z.string().url()).min(1),
      extract: z.object({}).passthrough(),
    })
    .passthrough(),
  z.object({ kind: z.literal("postgres"), ...common, query: z.string().min(1) }).passthrough(),
]);

function formatOf(definition: FileSourceDefinition, file: string): FileFormat {
  if (definition.format) return definition.format;
  const name = (definition.path ?? new URL(definition.url ?? "http://x/").pathname).toLowerCase();
  if (name.endsWith(".csv") || name.endsWith(".tsv")) return "csv";
  if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "ndjson";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".parquet")) return "parquet";
  throw new ConfigError(
    `${file}: cannot tell the format of '${name}': set format to csv, json, ndjson or parquet`,
  );
}

/** Validates a source file's default export; `name` is the file's base name. */
export function normalizeSource(spec: unknown, name: string, file: string): ProjectSource {
  const sourceName = (() => {
    try {
      return normalizeName(name, "source name");
    } catch (error) {
      throw new ConfigError(`${file}: ${(error as Error).message} (rename the file)`, { cause: error });
    }
  })();
  const parsed = sourceSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${file}: invalid source at '${issue?.path.join(".") || "(default export)"}': ${issue?.message}; export default defineSource({ kind: "file" | "api" | "html" | "browser" | "postgres", ... })`,
    );
  }
  const definition = parsed.data as SourceDefinition;
  try {
    const dataset = normalizeName(definition.dataset ?? sourceName);
    const columns =
      definition.columns === undefined
        ? undefined
        : typeof definition.columns === "string"
          ? parseColumnList(definition.columns)
          : normalizeCsvSpec({ dataset, columns: definition.columns }).columns;
    let format: FileFormat | undefined;
    if (definition.kind === "file") {
      if ((definition.path === undefined) === (definition.url === undefined))
        throw new ConfigError("a file source needs exactly one of path and url");
      format = formatOf(definition, file);
      if (format === "csv" && !columns)
        throw new ConfigError(
          `a CSV source needs its columns, e.g. columns: "ticker:VARCHAR,date:DATE,close:DECIMAL(18,4)"`,
        );
    }
    return {
      name: sourceName,
      file,
      dataset,
      definition,
      ...(columns && { columns }),
      ...(format && { format }),
    };
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`, { cause: error });
  }
}
