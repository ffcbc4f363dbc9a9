/**
 * Incremental promotion (`incremental: true` on a step with a key and `latestBy`): instead of
 * recomputing the output from every input row, a run reads only the input files added since the
 * output's current version was computed, and merges the rows they give into that version:
 *
 * 1. The previous version's lineage names the input version it read; the files the input had
 *    then are compared with its files now. Only added files are read. If a file was removed (the
 *    input was rewritten, replaced or compacted), that version is archived, the step changed, or
 *    the new rows' columns differ from the output's, the run falls back to a full rebuild.
 * 2. The step's SQL runs over the added files; its rows are deduplicated per key exactly as a full
 *    rebuild does (`latestPerKey`).
 * 3. The previous version's files holding any of those keys are found (a scan of the key columns)
 *    and rewritten with the new rows: per key the row with the greatest `latestBy` wins, the same
 *    order a full rebuild uses. Every other file is kept as it is: the new version's manifest
 *    names the kept files and the new ones.
 *
 * Readers read a version's files with a plain `read_parquet` (DuckDB in Node, DuckDB-WASM in the
 * browser), so every key is in exactly one file and no delete markers are needed. The result has
 * the rows a full rebuild gives when the SQL maps each input row on its own (filters, casts,
 * computed columns); a model that aggregates or joins over its whole input is not incremental.
 * Rows tying on every `latestBy` column are kept in no defined order, as in a full rebuild.
 *
 * The new version depends on the previous one, so a write that finds another head at commit time
 * is redone on it (never rebased), and a crash before the commit leaves the previous version as
 * it was; its new files are orphans for `lake gc`.
 */
import type { DataFile, Manifest, Storage } from "../lake/index.ts";
import { readManifest } from "../lake/index.ts";
import { type Db, quoteIdentifier, quoteLiteral } from "./duckdb.ts";

/** Rows per data file of an incremental model, unless it sets `fileRows`. */
export const DEFAULT_INCREMENTAL_FILE_ROWS = 500_000;

/** Thrown inside an incremental run that must be done as a full rebuild instead. */
export class IncrementalFallback extends Error {}

export interface IncrementPlan {
  /** The output version the increment is merged into. */
  previous: Manifest;
  /** The input's files added since `previous` was computed: the only input files read. */
  added: DataFile[];
}

/**
 * What an incremental run reads: the input files added since `previous` (the output's head,
 * computed by the same step) was computed, or why it must be a full rebuild.
 */
export async function planIncrement(
  storage: Storage,
  previous: Manifest | undefined,
  input: Manifest,
  stepHash: string,
): Promise<IncrementPlan | { full: string }> {
  if (!previous) return { full: "the output has no version yet" };
  if (previous.lineage.step !== stepHash) return { full: "the model changed since its last version" };
  const [read, ...others] = previous.lineage.inputs;
  if (!read || others.length > 0 || read.zone !== input.zone || read.dataset !== input.dataset)
    return { full: "the last version read other inputs" };
  if (read.version > input.version)
    return { full: `${input.zone}/${input.dataset} went back to version ${input.version}` };
  let before: Manifest;
  try {
    before = await readManifest(storage, input.zone, input.dataset, read.version);
  } catch {
    return { full: `${input.zone}/${input.dataset} v${read.version} is no longer readable` };
  }
  const now = new Set(input.files.map((f) => f.key));
  const removed = before.files.filter((f) => !now.has(f.key));
  if (removed.length > 0)
    return {
      full: `${input.zone}/${input.dataset} was rewritten (${removed.length} file(s) of v${read.version} are gone)`,
    };
  const had = new Set(before.files.map((f) => f.key));
  return { previous, added: input.files.filter((f) => !had.has(f.key)) };
}

const DELTA = "_lakebook_delta";
export const MERGED = "_lakebook_merged";

export interface MergedIncrement {
  /** Files of the previous version without any key of the new rows: kept as they are. */
  kept: DataFile[];
  /** How many of the previous version's files the merge rewrites. */
  replaced: number;
  /** Rows of the increment's new input files, after deduplication per key. */
  newRows: number;
}

/**
 * Merges the rows of `deltaQuery` (the step over the added input files, one row per key) into
 * the previous version: the rewritten files' rows plus the new rows, one per key, become the
 * temporary view `MERGED`; returns the files kept unchanged.
 */
export async function mergeIncrement(
  db: Db,
  options: {
    deltaQuery: string;
    previous: Manifest;
    /** Local paths of the previous version's files, in `previous.files` order. */
    previousPaths: string[];
    key: string[];
    latestBy: string[];
  },
): Promise<MergedIncrement> {
  const { previous, previousPaths, key } = options;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${DELTA} AS ${options.deltaQuery}`);
  const columns = await db.columns(DELTA);
  const same = (a: { name: string; type: string }[], b: { name: string; type: string }[]) =>
    a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type);
  if (!same(columns, previous.schema))
    throw new IncrementalFallback("the new rows' columns differ from the output's");
  const [counted] = await db.all(`SELECT count(*) AS n FROM ${DELTA}`);
  const newRows = Number(counted?.n ?? 0);

  const keys = key.map(quoteIdentifier);
  const sameKey = keys.map((k) => `_row.${k} IS NOT DISTINCT FROM _new.${k}`).join(" AND ");
  let affected = new Set<string>();
  if (previousPaths.length > 0 && newRows > 0) {
    // Only the key columns are read; DuckDB skips row groups whose key statistics cannot match.
    const rows = await db.all(
      `SELECT DISTINCT _lakebook_file FROM read_parquet([${previousPaths.map(quoteLiteral).join(", ")}],
         union_by_name = true, hive_partitioning = false, filename = '_lakebook_file') _row
       SEMI JOIN ${DELTA} _new ON ${sameKey}`,
    );
    affected = new Set(rows.map((r) => String(r._lakebook_file)));
  }
  const rewritten = previousPaths.filter((path) => affected.has(path));
  // The same choice as a full rebuild's DISTINCT ON: per key, the greatest latestBy, in order. Only
  // keys of the new rows compete; the rewritten files' other rows pass through unsorted (the
  // write sorts once). A view: the write reads it once, so nothing is materialized twice.
  const latest = options.latestBy.map((name) => `${quoteIdentifier(name)} DESC`).join(", ");
  const old = `read_parquet([${rewritten.map(quoteLiteral).join(", ")}], union_by_name = true, hive_partitioning = false)`;
  await db.run(
    `CREATE OR REPLACE TEMP VIEW ${MERGED} AS ${
      rewritten.length === 0
        ? `SELECT * FROM ${DELTA}`
        : `SELECT _row.* FROM ${old} _row ANTI JOIN ${DELTA} _new ON ${sameKey}
           UNION ALL BY NAME
           SELECT * FROM (
             SELECT DISTINCT ON (${keys.join(", ")}) * FROM (
               SELECT _row.* FROM ${old} _row SEMI JOIN ${DELTA} _new ON ${sameKey}
               UNION ALL BY NAME SELECT * FROM ${DELTA}
             ) ORDER BY ${keys.join(", ")}, ${latest}
           )`
    }`,
  );
  return {
    kept: previous.files.filter((_, i) => !affected.has(previousPaths[i]!)),
    replaced: rewritten.length,
    newRows,
  };
}
