/**
 * Landing -> raw for any format: a format's loader defines the view `typed` (its declared or
 * exact columns, the lineage columns, `_line` and `_reason`), and this module writes the good rows
 * as one Parquet file under `source=<s>/date=<d>/`, the rejects with their line numbers beside the
 * version, and commits the next raw version. Same invariants as CSV ingest (csvIngest.ts): a
 * landing already in the raw head commits nothing and reads nothing, data file keys are never
 * reused, and a lost commit race rebases the commit on the new head (src/lake/commit.ts): the
 * data file depends only on the landing, so it stays valid there.
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import {
  type Lake,
  type Manifest,
  type Provenance,
  type RebaseDecision,
  commitBudget,
  commitRebasing,
  deleteQuietly,
  joinKey,
  maybeHead,
  newWriteId,
  normalizeName,
} from "../lake/index.ts";
import {
  INGESTED_AT,
  LANDING_SHA256,
  type IngestOptions,
  type IngestResult,
  type RejectedRow,
} from "./csvIngest.ts";
import { type Db, pipelineDbOptions, quoteLiteral, withDb } from "./duckdb.ts";
import { writeParquet } from "./parquetFile.ts";
import { nextRawVersion } from "./rawVersion.ts";

/** Creates the view `typed` over the landed file at `path`; `scratch` is a private local folder. */
export type RawLoader = (db: Db, input: { path: string; scratch: string; lineage: string }) => Promise<void>;

export async function ingestLanding(
  lake: Lake,
  landing: Provenance,
  dataset: string,
  load: RawLoader,
  options: IngestOptions = {},
): Promise<IngestResult> {
  return ingestOnce(lake, landing, normalizeName(dataset), load, options);
}

async function ingestOnce(
  lake: Lake,
  landing: Provenance,
  dataset: string,
  load: RawLoader,
  options: IngestOptions,
): Promise<IngestResult> {
  const budget = commitBudget(lake, "raw", dataset);
  const holdsLanding = (manifest: Manifest | undefined) =>
    manifest?.files.some((file) => file.partition?.landing === landing.sha256) ?? false;
  const head = await maybeHead(lake.storage, "raw", dataset);
  if (head && holdsLanding(head)) return { manifest: head, created: false, rejected: 0 };
  if (!/^[0-9a-f]{64}$/.test(landing.sha256) || Number.isNaN(Date.parse(landing.fetchedAt))) {
    throw new DataError(
      `the landing record of ${landing.key} is damaged (sha256 or fetch time): land it again`,
    );
  }
  if (landing.bytes === 0) throw new DataError(`${landing.key} is empty: the source delivered no data`);
  const path = await lake.storage.localPath(landing.key);
  const writeId = newWriteId();
  const date = landing.fetchedAt.slice(0, 10);
  const partition = { source: landing.source, date, landing: landing.sha256 };
  const dataKey = joinKey(
    "raw",
    dataset,
    "data",
    `source=${landing.source}`,
    `date=${date}`,
    `${landing.sha256.slice(0, 16)}-${writeId}.parquet`,
  );
  const rejectsKey = joinKey("raw", dataset, "data", writeId, "rejects.json");
  const lineage = `CAST(${quoteLiteral(landing.fetchedAt)} AS TIMESTAMPTZ) AS ${INGESTED_AT}, CAST(${quoteLiteral(landing.sha256)} AS VARCHAR) AS ${LANDING_SHA256}`;
  const scratch = await lake.scratch();
  try {
    const { file, rejects, schema } = await withDb(
      async (db) => {
        await load(db, { path, scratch: join(scratch, "load"), lineage });
        const rejects = (
          await db.all(`SELECT _line, _reason FROM typed WHERE _reason IS NOT NULL ORDER BY _line`)
        ).map((row): RejectedRow => ({ line: Number(row._line), reason: String(row._reason), text: null }));
        const accepted = `SELECT * EXCLUDE (_reason) FROM typed WHERE _reason IS NULL ORDER BY _line`;
        const schema = await db.columns(`(${accepted})`);
        const file = await writeParquet(db, lake, scratch, accepted, dataKey, { partition });
        return { file, rejects, schema };
      },
      // The loader reads the landed file and its own scratch folder, nothing else.
      { ...pipelineDbOptions(scratch), access: { files: [path], directories: [scratch] } },
    );
    if (file.rows === 0) {
      // A refused file leaves nothing behind: its empty data file is named by no version.
      await deleteQuietly(lake.storage, [file.key]);
      const first = rejects[0];
      throw new DataError(
        `${landing.key}: no record could be read (${rejects.length} rejected${first ? `, first: line ${first.line}: ${first.reason}` : ""}); check the data against the columns of raw/${dataset}`,
      );
    }
    if (rejects.length > 0) await lake.storage.write(rejectsKey, JSON.stringify(rejects, null, 2) + "\n");
    const written = rejects.length > 0 ? [file.key, rejectsKey] : [file.key];
    const outcome = await commitRebasing(
      lake.storage,
      "raw",
      dataset,
      written,
      (current): RebaseDecision => {
        if (current && holdsLanding(current)) return { unchanged: current };
        return {
          commit: nextRawVersion({
            current,
            dataset,
            writeId,
            schema,
            file,
            landing,
            rejectCount: rejects.length,
            rejectsKey,
            sourceRun: options.sourceRun ?? null,
          }),
        };
      },
      budget,
    );
    if ("redo" in outcome) throw new DataError(`raw/${dataset}: ${outcome.redo}`);
    return { ...outcome, rejected: outcome.created ? rejects.length : 0 };
  } finally {
    await lake.releaseScratch(scratch);
  }
}
