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
  type DataFile,
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
  maybeHead,
  newWriteId,
  normalizeName,
} from "../lake/index.ts";
import { type Db, pipelineDbOptions, quoteIdentifier, withDb } from "./duckdb.ts";
import { type DataFileLayout, writeDataFiles } from "./dataFiles.ts";
import {
  DEFAULT_INCREMENTAL_FILE_ROWS,
  IncrementalFallback,
  type IncrementPlan,
  MERGED,
  mergeIncrement,
  planIncrement,
} from "./incremental.ts";
import { latestPerKey } from "./latestPerKey.ts";
import { parquetRelation } from "./parquetFile.ts";
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
  /** Columns whose values split the output into one or more files each (dataFiles.ts). */
  partitionBy?: string[];
  /** At most this many rows per data file (default: one file per partition). */
  fileRows?: number;
  /**
   * Merge only the rows of input files added since the last version into it (incremental.ts);
   * needs `key` and `latestBy`, and exactly one input.
   */
  incremental?: boolean;
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
  /** How a committed version was computed (absent when nothing was committed). */
  write?: WriteSummary;
}

export interface WriteSummary {
  mode: "full" | "incremental";
  /** Why an incremental step rebuilt its output in full. */
  reason?: string;
  /** Input data files the step read. */
  inputFiles: number;
  /** Files of the previous version the write replaced (incremental), and files it added. */
  replacedFiles: number;
  addedFiles: number;
}

/**
 * Runs a step as the next version of its output. When another writer commits the output first,
 * the computed version is rebased on the new head if it is still valid there, else recomputed
 * (see src/lake/commit.ts for the rules), until it commits or the lake's commit time budget runs
 * out: a concurrent run of the same step then finds the output up to date and commits nothing.
 */
export async function promote(lake: Lake, step: PromotionStep): Promise<PromotionResult> {
  assertIncrementalStep(step);
  const budget = commitBudget(lake, step.output.zone, normalizeName(step.output.dataset));
  let fullReason: string | undefined;
  for (;;) {
    let outcome: CommitOutcome & { write?: WriteSummary };
    try {
      outcome = await promoteOnce(lake, step, budget, fullReason);
    } catch (error) {
      if (!(error instanceof IncrementalFallback)) throw error;
      fullReason = error.message;
      continue;
    }
    if (!("redo" in outcome))
      return outcome.created ? outcome : { manifest: outcome.manifest, created: false };
    fullReason = undefined;
    await budget.lost();
  }
}

function assertIncrementalStep(step: PromotionStep): void {
  if (!step.incremental) return;
  const what = `step ${step.output.zone}/${step.output.dataset}`;
  if (!step.key?.length || !step.latestBy?.length)
    throw new DataError(`${what} is incremental: give it a key and latestBy to merge new rows by`);
  if (Object.keys(step.inputs).length !== 1)
    throw new DataError(`${what} is incremental: it must read exactly one dataset`);
}

async function promoteOnce(
  lake: Lake,
  step: PromotionStep,
  budget: CommitBudget,
  /** Set when an incremental run found it must rebuild in full. */
  fullReason: string | undefined,
): Promise<CommitOutcome & { write?: WriteSummary }> {
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

  const plan: IncrementPlan | { full: string } | undefined = step.incremental
    ? fullReason !== undefined
      ? { full: fullReason }
      : await planIncrement(lake.storage, head, inputs[0]!.manifest, stepHash)
    : undefined;
  const increment = plan && "added" in plan ? plan : undefined;
  const lineage: ManifestDraft["lineage"] = {
    inputs: inputRefs,
    landing: dedupeLanding(inputs.flatMap(({ manifest }) => manifest.lineage.landing)),
    step: stepHash,
    sourceRuns: collectSourceRuns(inputs.map(({ manifest }) => manifest)),
  };
  const writeId = newWriteId();
  if (increment && increment.added.length === 0) {
    // The input moved on without new files: the same rows, recorded as read from its new version.
    const { previous } = increment;
    const draft: ManifestDraft = { ...withoutVersion(previous), writeId, lineage };
    const write: WriteSummary = { mode: "incremental", inputFiles: 0, replacedFiles: 0, addedFiles: 0 };
    const outcome = await commitRebasing(
      lake.storage,
      step.output.zone,
      outputDataset,
      [],
      (newHead) => rebaseIncrement(newHead, head, upToDate, draft),
      budget,
    );
    return { ...outcome, write };
  }

  const written: string[] = [];
  const scratch = await lake.scratch();
  let draft: ManifestDraft;
  let write: WriteSummary;
  try {
    // The step's SQL and the gate's predicates may open exactly these files (duckdb.ts, sandbox);
    // an incremental run only the input files added since its last version, and that version's.
    const opened = async (files: DataFile[]) => Promise.all(files.map((f) => lake.storage.localPath(f.key)));
    const inputPaths = await Promise.all(
      inputs.map(({ manifest }) => opened(increment ? increment.added : manifest.files)),
    );
    const previousPaths = increment ? await opened(increment.previous.files) : [];
    const referencePaths = await Promise.all(references.map(({ manifest }) => opened(manifest.files)));
    const access = {
      files: [...inputPaths, ...referencePaths, previousPaths].flat(),
      directories: [scratch],
    };
    const layout: DataFileLayout = {
      folder: [step.output.zone, outputDataset, "data", writeId],
      ...(step.partitionBy?.length && { partitionBy: step.partitionBy }),
      ...((step.fileRows ?? (step.incremental ? DEFAULT_INCREMENTAL_FILE_ROWS : undefined)) !== undefined && {
        fileRows: step.fileRows ?? DEFAULT_INCREMENTAL_FILE_ROWS,
      }),
      ...(step.orderBy?.length && { orderBy: step.orderBy }),
      ...(step.rowGroupSize && { rowGroupSize: step.rowGroupSize }),
      written,
    };
    const result = await withDb(
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
        // Checked first, so a broken step is reported as such before anything reads its rows. On
        // the new files alone (e.g. without a column older files have), a full rebuild decides.
        await describe(db, step.sql, step).catch((error: unknown) => {
          if (increment)
            throw new IncrementalFallback("the model's SQL does not run on the new input files alone");
          throw error;
        });
        let query = await buildQuery(db, step);
        let schema: ColumnSchema[];
        let kept: DataFile[] = [];
        let replaced = 0;
        let candidate: string | undefined;
        if (increment) {
          const merged = await mergeIncrement(db, {
            deltaQuery: query,
            previous: increment.previous,
            previousPaths,
            key: step.key!,
            latestBy: latestColumns(step.latestBy!),
          });
          ({ kept, replaced } = merged);
          schema = increment.previous.schema;
          query = `SELECT * FROM ${MERGED}${orderClause(step.orderBy)}`;
          // The gate judges the whole next version: the kept files and the merged rows.
          const keptPaths = previousPaths.filter((_, i) => kept.includes(increment.previous.files[i]!));
          await db.run(
            `CREATE TEMP VIEW _lakebook_candidate AS ${
              keptPaths.length === 0
                ? `SELECT * FROM ${MERGED}`
                : `SELECT * FROM ${parquetRelation(keptPaths)} UNION ALL BY NAME SELECT * FROM ${MERGED}`
            }`,
          );
          candidate = "_lakebook_candidate";
        } else {
          schema = await describe(db, query, step);
          assertColumns(schema, step);
          if (head && !step.allowSchemaChanges)
            assertCompatible(head.schema, schema, `${step.output.zone}/${outputDataset}`);
        }
        let quality: Manifest["quality"] = null;
        if (step.gate) {
          if (!candidate) {
            // Materialized once: the gate and the write read the same rows without recomputing them.
            await db.run(`CREATE TEMP TABLE _lakebook_candidate AS ${query}`);
            query = `SELECT * FROM _lakebook_candidate`;
          }
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
          if (decision.query && increment)
            throw new IncrementalFallback("the quality gate quarantined rows of the merged version");
          // The table keeps the query's order; a gate's own selection may not, so it is sorted again.
          if (decision.query) query = `SELECT * FROM (${decision.query})${orderClause(step.orderBy)}`;
        }
        const files = await writeDataFiles(db, lake, scratch, query, layout);
        return { files, kept, replaced, schema, quality };
      },
      { ...pipelineDbOptions(scratch), access },
    ).catch((error: unknown) => {
      // The step's SQL failing while it runs (a value that does not convert, a refused file);
      // Lakebook's own errors and the system's (with an errno code) pass through as they are.
      if (error instanceof IncrementalFallback) throw error;
      if (isLakebookError(error) || (error as NodeJS.ErrnoException).code !== undefined) throw error;
      throw stepError(step, error);
    });
    const files = [...result.kept, ...result.files];
    draft = {
      zone: step.output.zone,
      dataset: outputDataset,
      writeId,
      schema: result.schema,
      rowCount: files.reduce((sum, f) => sum + f.rows, 0),
      bytes: files.reduce((sum, f) => sum + f.size, 0),
      files,
      rejects: { count: 0, key: null },
      lineage,
      sourceRun: null,
      quality: result.quality,
    };
    write = {
      mode: increment ? "incremental" : "full",
      ...(plan && "full" in plan && { reason: plan.full }),
      inputFiles: inputPaths.flat().length,
      replacedFiles: result.replaced,
      addedFiles: result.files.length,
    };
  } catch (error) {
    // Nothing was committed: what the gate stored for this candidate is not a result of any version.
    // A blocked gate (QualityError) keeps its result: it records why the promotion was refused.
    if (!(error instanceof QualityError)) await deleteQuietly(lake.storage, written);
    throw error;
  } finally {
    await lake.releaseScratch(scratch);
  }

  const outcome = await commitRebasing(
    lake.storage,
    step.output.zone,
    outputDataset,
    written,
    async (newHead): Promise<RebaseDecision> => {
      if (increment) return rebaseIncrement(newHead, head, upToDate, draft);
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
  return { ...outcome, write };
}

/** Partition columns must be columns of the output (DuckDB would report them as a SQL error). */
function assertColumns(schema: ColumnSchema[], step: PromotionStep): void {
  const names = new Set(schema.map((c) => c.name));
  const missing = (step.partitionBy ?? []).filter((name) => !names.has(name));
  if (missing.length > 0)
    throw new DataError(
      `step ${step.output.zone}/${step.output.dataset} is partitioned by ${missing.join(", ")}, which its SQL does not return: ` +
        `select ${missing.length === 1 ? "that column" : "those columns"} or change partition_by (columns: ${[...names].join(", ")})`,
    );
}

/** An incremental version is built on the head it read: on any other head it is redone. */
function rebaseIncrement(
  newHead: Manifest | undefined,
  head: Manifest | undefined,
  upToDate: (manifest: Manifest | undefined) => Manifest | undefined,
  draft: ManifestDraft,
): RebaseDecision {
  if ((newHead?.version ?? null) === (head?.version ?? null)) return { commit: draft };
  const duplicate = upToDate(newHead);
  if (duplicate) return { unchanged: duplicate };
  return { redo: `another run committed version ${newHead?.version} first` };
}

function withoutVersion(manifest: Manifest): ManifestDraft {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { formatVersion, version, parent, createdAt, ...draft } = manifest;
  return draft;
}

function latestColumns(latestBy: string | string[]): string[] {
  return typeof latestBy === "string" ? [latestBy] : latestBy;
}

function orderClause(orderBy: string[] | undefined): string {
  return orderBy?.length ? ` ORDER BY ${orderBy.map(quoteIdentifier).join(", ")}` : "";
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
  const { sql, key, latestBy, orderBy, rowGroupSize, inputs, partitionBy, fileRows, incremental } = step;
  // The layout settings count only when set, so steps without them keep their fingerprint.
  const layout = { partitionBy, fileRows, incremental };
  return createHash("sha256")
    .update(JSON.stringify({ sql, key, latestBy, orderBy, rowGroupSize, inputs, ...layout }))
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
