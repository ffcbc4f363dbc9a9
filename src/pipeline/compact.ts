/**
 * Compaction: rewrites a dataset's current version as a new version with the same rows in fewer,
 * sorted files (`lakebook compact <zone>.<dataset>`). Incremental runs add a file per run and
 * leave the dataset unsorted across files; compaction gives readers one sorted run of files again
 * (one per partition, split every `fileRows` rows), with the row groups browsers range-read.
 *
 * The new version keeps the compacted version's lineage (its input versions and step), so the
 * model stays up to date and its next incremental run merges into the compacted files. A
 * compaction checks that it wrote exactly the rows it read, and commits only on the head it read:
 * if another write committed first, it compacts the new head instead. A crash before the commit
 * leaves the previous version current; its files are orphans for `lake gc`.
 */
import { DataError } from "../errors.ts";
import {
  type Lake,
  type Manifest,
  type ManifestDraft,
  type RebaseDecision,
  commitBudget,
  commitRebasing,
  deleteQuietly,
  maybeHead,
  newWriteId,
  normalizeName,
} from "../lake/index.ts";
import { type DataFileLayout, writeDataFiles } from "./dataFiles.ts";
import { pipelineDbOptions, quoteIdentifier, withDb } from "./duckdb.ts";
import { parquetRelation } from "./parquetFile.ts";
import type { DatasetRef } from "./promote.ts";

export interface CompactOptions {
  /** Sort order of the rows (the model's `order_by`). */
  orderBy?: string[];
  partitionBy?: string[];
  /** At most this many rows per file (default: one file per partition). */
  fileRows?: number;
  rowGroupSize?: number;
}

export interface CompactResult {
  manifest: Manifest;
  /** False when the current version was already compacted and nothing was written. */
  created: boolean;
  filesBefore: number;
  filesAfter: number;
}

export async function compact(
  lake: Lake,
  ref: DatasetRef,
  options: CompactOptions = {},
): Promise<CompactResult> {
  const dataset = normalizeName(ref.dataset);
  if (ref.zone === "raw")
    throw new DataError(
      `raw/${dataset} keeps one file per landing (that is how an ingest knows what it holds): compact a staging or curated dataset`,
    );
  const budget = commitBudget(lake, ref.zone, dataset);
  for (;;) {
    const head = await maybeHead(lake.storage, ref.zone, dataset);
    if (!head)
      throw new DataError(
        `${ref.zone}/${dataset} has no version yet: run \`lakebook run +${ref.zone}.${dataset}\` first`,
      );
    const filesBefore = head.files.length;
    if (head.lineage.compaction || head.files.length === 0)
      return { manifest: head, created: false, filesBefore, filesAfter: filesBefore };
    const writeId = newWriteId();
    const written: string[] = [];
    const scratch = await lake.scratch();
    let draft: ManifestDraft;
    try {
      const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
      const layout: DataFileLayout = {
        folder: [ref.zone, dataset, "data", writeId],
        ...(options.partitionBy?.length && { partitionBy: options.partitionBy }),
        ...(options.fileRows && { fileRows: options.fileRows }),
        ...(options.orderBy?.length && { orderBy: options.orderBy }),
        ...(options.rowGroupSize && { rowGroupSize: options.rowGroupSize }),
        written,
      };
      const order = options.orderBy?.length
        ? ` ORDER BY ${options.orderBy.map(quoteIdentifier).join(", ")}`
        : "";
      const files = await withDb(
        (db) => writeDataFiles(db, lake, scratch, `SELECT * FROM ${parquetRelation(paths)}${order}`, layout),
        { ...pipelineDbOptions(scratch), access: { files: paths, directories: [scratch] } },
      );
      const rows = files.reduce((sum, f) => sum + f.rows, 0);
      if (rows !== head.rowCount)
        throw new DataError(
          `compacting ${ref.zone}/${dataset} v${head.version} wrote ${rows} rows instead of ${head.rowCount}: nothing was committed`,
        );
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { formatVersion, version, parent, createdAt, ...previous } = head;
      draft = {
        ...previous,
        writeId,
        files,
        bytes: files.reduce((sum, f) => sum + f.size, 0),
        lineage: { ...head.lineage, compaction: { from: head.version } },
      };
    } catch (error) {
      await deleteQuietly(lake.storage, written);
      throw error;
    } finally {
      await lake.releaseScratch(scratch);
    }
    const outcome = await commitRebasing(
      lake.storage,
      ref.zone,
      dataset,
      written,
      (newHead): RebaseDecision =>
        newHead?.version === head.version
          ? { commit: draft }
          : { redo: `${ref.zone}/${dataset} moved on to version ${newHead?.version}` },
      budget,
    );
    if (!("redo" in outcome)) return { ...outcome, filesBefore, filesAfter: draft.files.length };
    await budget.lost();
  }
}
