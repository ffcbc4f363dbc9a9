/**
 * Snapshots: what a loader hands a notebook. A snapshot carries the rows of one dataset version
 * together with that version's identity (zone, dataset, version, commit time), so a page can
 * never show data and a "data as of" stamp that disagree.
 */
import { DataError } from "../errors.ts";
import { type Lake, type Manifest, maybeHead, readManifest, recordDatasetRead } from "../lake/index.ts";
import type { VersionedZone } from "../lake/index.ts";
import { withDb } from "./duckdb.ts";
import { parquetRelation } from "./parquetFile.ts";

export interface DatasetInfo {
  zone: VersionedZone;
  dataset: string;
  version: number;
  createdAt: string;
  rowCount: number;
  bytes: number;
  schema: Manifest["schema"];
  /** Where the browser reads the data files: the server's `/lake/` endpoint. */
  files: { url: string; size: number; rows: number }[];
}

export interface Snapshot extends DatasetInfo {
  /** Rows as JSON: DECIMAL and BIGINT values are exact strings, DATE values `YYYY-MM-DD`. */
  rows: Record<string, unknown>[];
}

export function describeVersion(manifest: Manifest): DatasetInfo {
  return {
    zone: manifest.zone,
    dataset: manifest.dataset,
    version: manifest.version,
    createdAt: manifest.createdAt,
    rowCount: manifest.rowCount,
    bytes: manifest.bytes,
    schema: manifest.schema,
    files: manifest.files.map((f) => ({ url: `/lake/${f.key}`, size: f.size, rows: f.rows })),
  };
}

export async function readSnapshot(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  options: { version?: number } = {},
): Promise<Snapshot> {
  const manifest =
    options.version === undefined
      ? await maybeHead(lake.storage, zone, dataset)
      : await readManifest(lake.storage, zone, dataset, options.version);
  if (!manifest)
    throw new DataError(
      `${zone}/${dataset} has no version yet: run \`lakebook run +${zone}.${dataset}\` first`,
    );
  // A loader's output is reused only while the versions it read stay current (loaderCache.ts).
  recordDatasetRead(manifest);
  const paths = await Promise.all(manifest.files.map((f) => lake.storage.localPath(f.key)));
  const rows = await withDb((db) => db.all(`SELECT * FROM ${parquetRelation(paths)}`), {
    access: { files: paths },
  });
  if (rows.length !== manifest.rowCount) {
    throw new DataError(
      `${zone}/${dataset} v${manifest.version} has ${rows.length} rows but its manifest says ${manifest.rowCount}: the lake is damaged, restore the version`,
    );
  }
  return { ...describeVersion(manifest), rows };
}
