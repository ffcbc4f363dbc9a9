/**
 * Snapshots: what a loader hands a notebook. A snapshot carries the rows of one dataset version
 * together with that version's identity (zone, dataset, version, commit time), so a page can
 * never show data and a "data as of" stamp that disagree.
 */
import { createHash } from "node:crypto";
import { DataError } from "../errors.ts";
import { type Lake, type Manifest, maybeHead, readManifest, recordDatasetRead } from "../lake/index.ts";
import type { VersionedZone } from "../lake/index.ts";
import { quoteIdentifier, withDb } from "./duckdb.ts";
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

/** Rows whose columns equal these values (`{ ticker: "AAPL" }`), compared as text. */
export type RowFilter = Readonly<Record<string, string>>;

export async function readSnapshot(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  options: { version?: number; where?: RowFilter } = {},
): Promise<Snapshot> {
  const manifest =
    options.version === undefined
      ? await maybeHead(lake.storage, zone, dataset)
      : await readManifest(lake.storage, zone, dataset, options.version);
  if (!manifest)
    throw new DataError(
      `${zone}/${dataset} has no version yet: run \`lakebook run +${zone}.${dataset}\` first`,
    );
  const rows = await readRows(lake, manifest, options.where);
  // A loader's output is reused only while the versions it read stay current (loaderCache.ts); a
  // read of some rows also while those rows stay the same.
  if (options.where) recordDatasetRead({ ...manifest, where: options.where, rows: rowsHash(rows) });
  else recordDatasetRead(manifest);
  if (!options.where && rows.length !== manifest.rowCount) {
    throw new DataError(
      `${zone}/${dataset} v${manifest.version} has ${rows.length} rows but its manifest says ${manifest.rowCount}: the lake is damaged, restore the version`,
    );
  }
  return { ...describeVersion(manifest), rows };
}

/** The hash `DatasetRead.rows` holds for the rows of `manifest` matching `where`. */
export async function filteredRowsHash(lake: Lake, manifest: Manifest, where: RowFilter): Promise<string> {
  return rowsHash(await readRows(lake, manifest, where));
}

async function readRows(
  lake: Lake,
  manifest: Manifest,
  where: RowFilter | undefined,
): Promise<Record<string, unknown>[]> {
  const entries = Object.entries(where ?? {});
  for (const [name] of entries) {
    if (!manifest.schema.some((column) => column.name === name)) {
      throw new DataError(
        `${manifest.zone}/${manifest.dataset} has no column '${name}' to filter on: use one of ${manifest.schema.map((c) => c.name).join(", ")}`,
      );
    }
  }
  const condition =
    entries.length === 0
      ? ""
      : ` WHERE ${entries.map(([name], i) => `CAST(${quoteIdentifier(name)} AS VARCHAR) = $${i + 1}`).join(" AND ")}`;
  const paths = await Promise.all(manifest.files.map((f) => lake.storage.localPath(f.key)));
  return withDb(
    (db) =>
      db.all(
        `SELECT * FROM ${parquetRelation(paths)}${condition}`,
        entries.length === 0 ? undefined : entries.map(([, value]) => String(value)),
      ),
    { access: { files: paths } },
  );
}

function rowsHash(rows: readonly Record<string, unknown>[]): string {
  return createHash("sha256").update(JSON.stringify(rows)).digest("hex").slice(0, 32);
}
