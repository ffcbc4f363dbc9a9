import { createHash } from "node:crypto";
/**
 * Promotion between zones: a step is DuckDB SQL over the current versions of its inputs, written
 * as one new version of its output. Steps declare their key and dedup policy (keep the latest row
 * per key by an ordering column) and the sort order of the output, which curated data uses so the
 * browser can range-read only the row groups a query needs.
 *
 * Idempotence: when the output's head was computed from exactly the current input versions, the
 * step commits nothing. Schema evolution: added columns are allowed; a dropped column or a changed
 * type is rejected, naming the columns, unless the step allows it.
 */
import { DataError, QualityError, isLakebookError } from "../errors.ts";
import {
  type ColumnSchema,
  type CommitBudget,
  type CommitOutcome,
  type InputRef,
  type Lake,
  type Manifest,
  type ManifestDraft,
  type RebaseDecision,
  type VersionedZone,
  commitBudget,
  commitRebasing,
  deleteQuietly,
  joinKey,
  maybeHead,
  newWriteId,
  normalizeName,
} from "../lake/index.ts";
import { type Db, pipelineDbOptions, quoteIdentifier, withDb } from "./duckdb.ts";
import { parquetRelation, writeParquet } from "./parquetFile.ts";
import { describeSqlError } from "./sqlError.ts";

export interface DatasetRef {
  zone: VersionedZone;
  dataset: string;
}

export interface PromotionStep {
  /** Inputs by the relation name the SQL uses. */
  inputs: Record<string, DatasetRef>;
  output: DatasetRef;
  /** A SELECT over the input relations. */
  sql: string;
  /**
   * The output's unique key; with `latestBy`, duplicates keep the row with the greatest value of
   * the first column, ties broken by the next ones (e.g. `["_ingested_at", "_landing_sha256",
   * "_line"]`: the latest landing, then the last row in file order). Rows tying on every column
   * are kept in no defined order, so a reproducible result needs columns that cannot tie.
   */
  key?: string[];
  latestBy?: string | string[];
  /** Output sort order (curated data is sorted for range reads). */
  orderBy?: string[];
  rowGroupSize?: number;
  /** Allow dropped columns and type changes against the previous version. */
  allowSchemaChanges?: boolean;
  /** Quality gate (see src/quality) run on the candidate rows before anything is written. */
  gate?: PromotionGate;
}

export interface PromotionGate {
  /**
   * Datasets the gate reads besides the candidate (referential checks): their current versions
   * are opened for it as views (`PromotionCandidate.references`); no other file is readable.
   */
  reads?: DatasetRef[];
  /**
   * Throws (QualityError) to block the promotion, leaving the previous version current, or
   * returns which rows to promote and the manifest's quality record.
   */
  check(candidate: PromotionCandidate): Promise<GateDecision>;
}

/** The output a step computed, materialized as a temporary table, before it is written. */
export interface PromotionCandidate {
  db: Db;
  /** The table holding the candidate rows. */
  relation: string;
  schema: ColumnSchema[];
  rowCount: number;
  output: DatasetRef;
  /** The current version the candidate would follow. */
  previous: Manifest | undefined;
  writeId: string;
  /** Views over the current versions of the gate's `reads`, by `zone/dataset` (absent: no version). */
  references: Map<string, string>;
  /** The write's scratch folder, the only one the gate can write files to (e.g. a quarantine). */
  scratch: string;
}

export interface GateDecision {
  /** A SELECT over the candidate giving the rows to promote; all of them when omitted. */
  query?: string;
  quality: Manifest["quality"];
  /**
   * Objects the gate stored for this candidate (its result, quarantined rows), deleted again if
   * the candidate is never committed (a duplicate, or redone on a new head).
   */
  written?: string[];
}

export interface PromotionResult {
  manifest: Manifest;
  /** False when the output was already up to date with its inputs. */
  created: boolean;
}

/**
 * Runs a step as the next version of its output. When another writer commits the output first,
 * the computed version is rebased on the new head if it is still valid there, else recomputed
 * (see src/lake/commit.ts for the rules), until it commits or the lake's commit time budget runs
 * out: a concurrent run of the same step then finds the output up to date and commits nothing.
 */
export async function promote(lake: Lake, step: PromotionStep): Promise<PromotionResult> {
  const budget = commitBudget(lake, step.output.zone, normalizeName(step.output.dataset));
  for (;;) {
    const outcome = await promoteOnce(lake, step, budget);
    if (!("redo" in outcome)) return outcome;
    await budget.lost();
  }
}

async function promoteOnce(lake: Lake, step: PromotionStep, budget: CommitBudget): Promise<CommitOutcome> {
  const outputDataset = normalizeName(step.output.dataset);
  const inputs: { alias: string; manifest: Manifest }[] = [];
  for (const [alias, ref] of Object.entries(step.inputs)) {
    const manifest = await maybeHead(lake.storage, ref.zone, normalizeName(ref.dataset));
    if (!manifest) {
      throw new DataError(
        `${ref.zone}/${ref.dataset} has no version yet: ingest or promote it before ${step.output.zone}/${outputDataset}`,
      );
    }
    inputs.push({ alias, manifest });
  }
  const inputRefs: InputRef[] = inputs.map(({ manifest }) => ({
    zone: manifest.zone,
    dataset: manifest.dataset,
    version: manifest.version,
  }));
  const references: { name: string; manifest: Manifest }[] = [];
  for (const ref of step.gate?.reads ?? []) {
    const manifest = await maybeHead(lake.storage, ref.zone, normalizeName(ref.dataset));
    if (manifest) references.push({ name: `${ref.zone}/${normalizeName(ref.dataset)}`, manifest });
  }
  const head = await maybeHead(lake.storage, step.output.zone, outputDataset);
  const stepHash = fingerprint(step);
  const upToDate = (manifest: Manifest | undefined): Manifest | undefined =>
    manifest && manifest.lineage.step === stepHash && sameInputs(manifest.lineage.inputs, inputRefs)
      ? manifest
      : undefined;
  const current = upToDate(head);
  if (current) return { manifest: current, created: false };

  const writeId = newWriteId();
  const dataKey = joinKey(step.output.zone, outputDataset, "data", writeId, "part-0.parquet");
  const written = [dataKey];
  const scratch = await lake.scratch();
  let draft: ManifestDraft;
  try {
    // The step's SQL and the gate's predicates may open exactly these files (duckdb.ts, sandbox).
    const opened = async (manifest: Manifest) =>
      Promise.all(manifest.files.map((f) => lake.storage.localPath(f.key)));
    const inputPaths = await Promise.all(inputs.map(({ manifest }) => opened(manifest)));
    const referencePaths = await Promise.all(references.map(({ manifest }) => opened(manifest)));
    const access = { files: [...inputPaths, ...referencePaths].flat(), directories: [scratch] };
    const { file, schema, quality } = await withDb(
      async (db) => {
        for (const [i, { alias }] of inputs.entries()) {
          await db.run(
            `CREATE VIEW ${quoteIdentifier(alias)} AS SELECT * FROM ${parquetRelation(inputPaths[i]!)}`,
          );
        }
        const referenceViews = new Map<string, string>();
        for (const [i, { name }] of references.entries()) {
          const view = `_lakebook_ref_${i}`;
          await db.run(`CREATE TEMP VIEW ${view} AS SELECT * FROM ${parquetRelation(referencePaths[i]!)}`);
          referenceViews.set(name, view);
        }
        // Checked first, so a broken step is reported as such before anything reads its rows.
        await describe(db, step.sql, step);
        let query = await buildQuery(db, step);
        const schema = await describe(db, query, step);
        if (head && !step.allowSchemaChanges)
          assertCompatible(head.schema, schema, `${step.output.zone}/${outputDataset}`);
        let quality: Manifest["quality"] = null;
        if (step.gate) {
          // Materialized once: the gate and the write read the same rows without recomputing them.
          await db.run(`CREATE TEMP TABLE _lakebook_candidate AS ${query}`);
          const [counted] = await db.all(`SELECT count(*) AS n FROM _lakebook_candidate`);
          const decision = await step.gate.check({
            db,
            relation: "_lakebook_candidate",
            schema,
            rowCount: Number(counted?.n ?? 0),
            output: { zone: step.output.zone, dataset: outputDataset },
            previous: head,
            writeId,
            references: referenceViews,
            scratch,
          });
          quality = decision.quality;
          written.push(...(decision.written ?? []));
          // The table keeps the query's order; a gate's own selection may not, so it is sorted again.
          query = decision.query ?? `SELECT * FROM _lakebook_candidate`;
          if (decision.query && step.orderBy?.length)
            query = `SELECT * FROM (${query}) ORDER BY ${step.orderBy.map(quoteIdentifier).join(", ")}`;
        }
        const file = await writeParquet(db, lake, scratch, query, dataKey, {
          rowGroupSize: step.rowGroupSize,
        });
        return { file, schema, quality };
      },
      { ...pipelineDbOptions(scratch), access },
    ).catch((error: unknown) => {
      // The step's SQL failing while it runs (a value that does not convert, a refused file);
      // Lakebook's own errors and the system's (with an errno code) pass through as they are.
      if (isLakebookError(error) || (error as NodeJS.ErrnoException).code !== undefined) throw error;
      throw stepError(step, error);
    });
    draft = {
      zone: step.output.zone,
      dataset: outputDataset,
      writeId,
      schema,
      rowCount: file.rows,
      bytes: file.size,
      files: [file],
      rejects: { count: 0, key: null },
      lineage: {
        inputs: inputRefs,
        landing: dedupeLanding(inputs.flatMap(({ manifest }) => manifest.lineage.landing)),
        step: stepHash,
        sourceRuns: collectSourceRuns(inputs.map(({ manifest }) => manifest)),
      },
      sourceRun: null,
      quality,
    };
  } catch (error) {
    // Nothing was committed: what the gate stored for this candidate is not a result of any version.
    // A blocked gate (QualityError) keeps its result: it records why the promotion was refused.
    if (!(error instanceof QualityError)) await deleteQuietly(lake.storage, written);
    throw error;
  } finally {
    await lake.releaseScratch(scratch);
  }

  return commitRebasing(
    lake.storage,
    step.output.zone,
    outputDataset,
    written,
    async (newHead): Promise<RebaseDecision> => {
      if ((newHead?.version ?? null) === (head?.version ?? null)) return { commit: draft };
      const duplicate = upToDate(newHead);
      if (duplicate) return { unchanged: duplicate };
      for (const { manifest } of inputs) {
        const now = await maybeHead(lake.storage, manifest.zone, manifest.dataset);
        if (now?.version !== manifest.version) {
          return { redo: `${manifest.zone}/${manifest.dataset} moved on to version ${now?.version}` };
        }
      }
      if (step.gate)
        return { redo: `the quality gate judged the candidate against version ${head?.version}` };
      if (newHead && !step.allowSchemaChanges)
        assertCompatible(newHead.schema, draft.schema, `${step.output.zone}/${outputDataset}`);
      return { commit: draft };
    },
    budget,
  );
}

async function buildQuery(db: Db, step: PromotionStep): Promise<string> {
  let query = step.sql;
  let sortedBy: string[] = [];
  if (step.key && step.latestBy) {
    query = await latestPerKey(db, step, step.key, step.latestBy);
    sortedBy = step.key;
  }
  const orderBy = step.orderBy ?? [];
  const alreadySorted = orderBy.length <= sortedBy.length && orderBy.every((name, i) => sortedBy[i] === name);
  if (orderBy.length > 0 && !alreadySorted)
    query = `SELECT * FROM (${query}) ORDER BY ${orderBy.map(quoteIdentifier).join(", ")}`;
  return query;
}

/** The table of keys that occur more than once in a step's rows (see `latestPerKey`). */
const REPEATED_KEYS = "_lakebook_repeated_keys";

/**
 * The step's rows with only the latest row (greatest `latestBy`, in order) of each key, sorted by
 * the key.
 *
 * Most promotions have no repeated key at all, so the keys that repeat are found first (one hash
 * aggregate over the key columns, which spills in bounded memory): rows of the other keys pass
 * through untouched and only rows of repeated keys go through DISTINCT ON. Measured on 10M rows
 * under the pipeline's memory cap, a DISTINCT ON over every row took 2.7x as long as this, and a
 * window (`row_number() OVER (PARTITION BY key ...)`) ran out of memory. NULL key values compare
 * equal, as in GROUP BY and DISTINCT ON.
 */
async function latestPerKey(
  db: Db,
  step: PromotionStep,
  key: string[],
  latestBy: string | string[],
): Promise<string> {
  const latest = (typeof latestBy === "string" ? [latestBy] : latestBy)
    .map((name) => `${quoteIdentifier(name)} DESC`)
    .join(", ");
  const keys = key.map(quoteIdentifier).join(", ");
  const repeatedCount = await db
    .run(
      `CREATE OR REPLACE TEMP TABLE ${REPEATED_KEYS} AS
         SELECT ${keys} FROM (${step.sql}) GROUP BY ${keys} HAVING count(*) > 1`,
    )
    .then(() => db.all(`SELECT count(*) AS n FROM ${REPEATED_KEYS}`))
    .catch((error: unknown) => {
      throw new DataError(
        `the key of step ${step.output.zone}/${step.output.dataset} (${key.join(", ")}) cannot be grouped: ${describeSqlError(error, step.sql)}`,
        { cause: error },
      );
    });
  if (Number(repeatedCount[0]?.n ?? 0) === 0) return `SELECT * FROM (${step.sql}) ORDER BY ${keys}`;
  const sameKey = key
    .map((name) => `_row.${quoteIdentifier(name)} IS NOT DISTINCT FROM _repeated.${quoteIdentifier(name)}`)
    .join(" AND ");
  return `SELECT * FROM (
      SELECT _row.* FROM (${step.sql}) _row ANTI JOIN ${REPEATED_KEYS} _repeated ON ${sameKey}
      UNION ALL
      SELECT * FROM (
        SELECT DISTINCT ON (${keys}) * FROM (
          SELECT _row.* FROM (${step.sql}) _row SEMI JOIN ${REPEATED_KEYS} _repeated ON ${sameKey}
        ) ORDER BY ${keys}, ${latest}
      )
    ) ORDER BY ${keys}`;
}

async function describe(db: Db, query: string, step: PromotionStep): Promise<ColumnSchema[]> {
  try {
    return await db.columns(`(${query})`);
  } catch (error) {
    throw stepError(step, error);
  }
}

function stepError(step: PromotionStep, error: unknown): DataError {
  return new DataError(
    `the SQL of step ${step.output.zone}/${step.output.dataset} failed: ${describeSqlError(error, step.sql)}; ` +
      `nothing was committed, fix the step's SQL`,
    { cause: error },
  );
}

/** Throws when columns were dropped or changed type; added columns are fine. */
export function assertCompatible(previous: ColumnSchema[], next: ColumnSchema[], what: string): void {
  const nextByName = new Map(next.map((c) => [c.name, c.type]));
  const dropped = previous.filter((c) => !nextByName.has(c.name)).map((c) => c.name);
  const changed = previous
    .filter((c) => nextByName.has(c.name) && nextByName.get(c.name) !== c.type)
    .map((c) => `${c.name} ${c.type} -> ${nextByName.get(c.name)}`);
  if (dropped.length === 0 && changed.length === 0) return;
  const parts = [
    dropped.length > 0 && `dropped column(s) ${dropped.join(", ")}`,
    changed.length > 0 && `changed type(s) ${changed.join(", ")}`,
  ].filter(Boolean);
  throw new DataError(`${what}: ${parts.join("; ")}; set allowSchemaChanges on the step if this is intended`);
}

/** Identifies what a step computes, so a changed step is rerun even on unchanged inputs. */
function fingerprint(step: PromotionStep): string {
  const { sql, key, latestBy, orderBy, rowGroupSize, inputs } = step;
  return createHash("sha256")
    .update(JSON.stringify({ sql, key, latestBy, orderBy, rowGroupSize, inputs }))
    .digest("hex")
    .slice(0, 16);
}

function sameInputs(a: InputRef[], b: InputRef[]): boolean {
  const key = (refs: InputRef[]) =>
    refs
      .map((r) => `${r.zone}/${r.dataset}@${r.version}`)
      .sort()
      .join(",");
  return key(a) === key(b);
}

function collectSourceRuns(manifests: Manifest[]): string[] {
  const runs = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.sourceRun) runs.add(manifest.sourceRun);
    for (const run of manifest.lineage.sourceRuns ?? []) runs.add(run);
  }
  return [...runs].sort();
}

function dedupeLanding<T extends { sha256: string }>(refs: T[]): T[] {
  return [...new Map(refs.map((r) => [r.sha256, r])).values()];
}
