/**
 * A model: `models/<zone>/<dataset>.sql`, one DuckDB SELECT producing the next version of
 * `<zone>.<dataset>` (zone staging or curated) from the datasets it names (`raw.quotes`,
 * `staging.prices`). Per-model settings sit in an optional header at the top of the file, a YAML
 * mapping inside SQL comments between two `-- ---` lines:
 *
 *     -- ---
 *     -- description: One row per ticker and day
 *     -- owner: markets
 *     -- key: [ticker, date]          # the output's unique key ...
 *     -- latest_by: _ingested_at      # ... keeping the row with the greatest value of this column;
 *                                     #     a list breaks ties: [_ingested_at, _landing_sha256, _line]
 *     -- order_by: [ticker, date]     # sort order of the written file
 *     -- row_group_size: 10000        # rows per Parquet row group (browser range reads)
 *     -- allow_schema_changes: false  # allow dropped columns and changed types
 *     -- partition_by: [region]       # one or more files per value of these columns
 *     -- incremental: true            # merge only new input rows by key (needs key, latest_by)
 *     -- file_rows: 500000            # at most this many rows per data file
 *     -- ---
 *     SELECT ...
 *
 * `partition_by` writes each distinct value (NULL and empty included) to its own folder,
 * `data/<writeId>/<column>-<encoded value>/part-<n>.parquet` (see src/pipeline/dataFiles.ts); the
 * column stays in the files and its value is recorded in the manifest, so readers see the same
 * rows as without it. `incremental: true` makes a run read only the input files added since the
 * model's last version and merge their rows into it by `key` (`latest_by` wins, as in a full
 * rebuild), rewriting only the files that hold those keys (src/pipeline/incremental.ts). It needs
 * a SQL that maps each input row on its own (no aggregates or joins over the whole input) and
 * exactly one input dataset; when that input was rewritten rather than appended to, the run
 * rebuilds in full. Its files hold at most `file_rows` rows (default 500,000), so a merge
 * rewrites little; `lakebook compact <zone>.<dataset>` rewrites a dataset into sorted files.
 *
 * Unknown settings, bad values, SQL with several statements and a file outside that layout are
 * refused with the file and line.
 */
import { parseDocument } from "yaml";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import type { VersionedZone } from "../lake/index.ts";
import { findReferences, rewriteSql } from "./sqlRefs.ts";

export interface ModelSettings {
  description?: string;
  owner?: string;
  key?: string[];
  latestBy?: string[];
  orderBy?: string[];
  rowGroupSize?: number;
  allowSchemaChanges?: boolean;
  partitionBy?: string[];
  incremental?: boolean;
  fileRows?: number;
}

export interface ModelReference {
  zone: VersionedZone;
  dataset: string;
  /** 1-based line in the model file. */
  line: number;
}

export interface ProjectModel {
  /** `<zone>.<dataset>` */
  id: string;
  zone: Exclude<VersionedZone, "raw">;
  dataset: string;
  /** The file, relative to the project root. */
  file: string;
  settings: ModelSettings;
  /** The SQL as run: references replaced by views named `"<zone>.<dataset>"`. */
  sql: string;
  references: ModelReference[];
}

const names = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const settingsSchema = z
  .object({
    description: z.string().optional(),
    owner: z.string().optional(),
    key: names.optional(),
    latest_by: names.optional(),
    order_by: names.optional(),
    row_group_size: z.number().int().min(1000).max(10_000_000).optional(),
    allow_schema_changes: z.boolean().optional(),
    partition_by: names.optional(),
    incremental: z.boolean().optional(),
    file_rows: z.number().int().min(1).max(100_000_000).optional(),
  })
  .strict();

const DELIMITER = /^--\s*---\s*$/;

/** Splits the header off: its YAML text, where it starts and how many lines it takes. */
function splitHeader(
  text: string,
  file: string,
): { yaml: string; firstLine: number; bodyStart: number } | undefined {
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === "") i++;
  if (i >= lines.length || !DELIMITER.test(lines[i]!.trim())) return undefined;
  const first = i;
  const body: string[] = [];
  for (i = first + 1; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (DELIMITER.test(line.trim())) return { yaml: body.join("\n"), firstLine: first + 2, bodyStart: i + 1 };
    if (!line.trimStart().startsWith("--")) {
      throw new ConfigError(
        `${file}:${i + 1}: the settings header is not closed: end it with a '-- ---' line`,
      );
    }
    body.push(line.trimStart().replace(/^--\s?/, ""));
  }
  throw new ConfigError(
    `${file}:${first + 1}: the settings header is not closed: end it with a '-- ---' line`,
  );
}

function headerLineOf(yaml: string, firstLine: number, key: string): number {
  const index = yaml.split("\n").findIndex((line) => new RegExp(`^\\s*${key}\\s*:`).test(line));
  return firstLine + Math.max(0, index);
}

export function parseModel(
  text: string,
  file: string,
  zone: Exclude<VersionedZone, "raw">,
  dataset: string,
): ProjectModel {
  const header = splitHeader(text, file);
  let settings: ModelSettings = {};
  let incrementalLine = 0;
  if (header) {
    const document = parseDocument(header.yaml, { prettyErrors: false });
    const [error] = document.errors;
    if (error) {
      const line = header.firstLine + (error.linePos?.[0]?.line ?? 1) - 1;
      throw new ConfigError(
        `${file}:${line}: the settings header is not valid YAML: ${error.message.split("\n")[0]}`,
      );
    }
    const parsed = settingsSchema.safeParse(document.toJS() ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const key = issue.code === "unrecognized_keys" ? issue.keys[0]! : String(issue.path[0] ?? "");
      const line = headerLineOf(header.yaml, header.firstLine, key);
      throw new ConfigError(
        issue.code === "unrecognized_keys"
          ? `${file}:${line}: unknown setting '${key}': use description, owner, key, latest_by, order_by, row_group_size, allow_schema_changes, partition_by, incremental or file_rows`
          : `${file}:${line}: setting '${key}': ${issue.message}`,
      );
    }
    const s = parsed.data;
    settings = {
      ...(s.description !== undefined && { description: s.description }),
      ...(s.owner !== undefined && { owner: s.owner }),
      ...(s.key && { key: s.key }),
      ...(s.latest_by && { latestBy: s.latest_by }),
      ...(s.order_by && { orderBy: s.order_by }),
      ...(s.row_group_size && { rowGroupSize: s.row_group_size }),
      ...(s.allow_schema_changes !== undefined && { allowSchemaChanges: s.allow_schema_changes }),
      ...(s.partition_by && { partitionBy: s.partition_by }),
      ...(s.incremental && { incremental: true }),
      ...(s.file_rows && { fileRows: s.file_rows }),
    };
    if (settings.latestBy && !settings.key)
      throw new ConfigError(
        `${file}:${headerLineOf(header.yaml, header.firstLine, "latest_by")}: latest_by needs a key`,
      );
    if (settings.incremental && !(settings.key && settings.latestBy))
      throw new ConfigError(
        `${file}:${headerLineOf(header.yaml, header.firstLine, "incremental")}: incremental needs a key and latest_by, to merge new rows into the existing ones`,
      );
    incrementalLine = headerLineOf(header.yaml, header.firstLine, "incremental");
  }
  // The header's lines are blanked, not removed, so lines in the SQL are lines in the file.
  const offset = header ? header.bodyStart : 0;
  const sql = "\n".repeat(offset) + text.split("\n").slice(offset).join("\n");
  if (!/\S/.test(sql.replace(/--[^\n]*/g, "")))
    throw new ConfigError(`${file}: the model has no SQL: write a SELECT`);
  const refs = findReferences(sql);
  const inputs = new Set(refs.map((ref) => `${ref.zone}.${ref.dataset}`));
  if (settings.incremental && inputs.size !== 1)
    throw new ConfigError(
      `${file}:${incrementalLine}: an incremental model reads exactly one dataset, this one reads ${inputs.size} (${[...inputs].join(", ") || "none"}): drop incremental or split the model`,
    );
  return {
    id: `${zone}.${dataset}`,
    zone,
    dataset,
    file,
    settings,
    sql: rewriteSql(sql, refs, (line) => `${file}:${line}`),
    references: refs.map(({ zone, dataset, line }) => ({ zone, dataset, line })),
  };
}
