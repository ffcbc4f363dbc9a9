/**
 * Which dataset versions a process read, for the build's loader cache (src/site/loaderCache.ts).
 *
 * A build runs each data loader as a child process with `LAKEBOOK_LOADER_READS_DIR` set; every
 * read of a committed version through the public API (readSnapshot, readCheckedSnapshot,
 * readDataset) appends one JSON line to `<dir>/<pid>.jsonl` naming the process's command line and
 * the version read. Outside a build the variable is unset and recording costs nothing.
 * Appends of one short line are atomic on local file systems, and each process has its own file.
 */
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const LOADER_READS_ENV = "LAKEBOOK_LOADER_READS_DIR";

export interface DatasetRead {
  readonly zone: string;
  /** A dataset name, or `*` for a listing of the zone (catalogs). */
  readonly dataset: string;
  /** The version read (0 for a listing). */
  readonly version: number;
  /** For a listing: every dataset's current version, `name@version` joined by commas. */
  readonly listing?: string;
  /** For a read of some rows only (`readDataset(name, { where })`): the column values matched. */
  readonly where?: Readonly<Record<string, string>>;
  /** With `where`: a hash of the rows read, so a new version with the same rows reuses the output. */
  readonly rows?: string;
}

/** The fingerprint of a zone's listing that `DatasetRead.listing` holds. */
export function listingOf(heads: readonly { dataset: string; version: number }[]): string {
  return heads
    .map((head) => `${head.dataset}@${head.version}`)
    .sort()
    .join(",");
}

/** True inside a build's loader, where reads are recorded (so callers skip the extra work elsewhere). */
export function recordingReads(): boolean {
  return Boolean(process.env[LOADER_READS_ENV]);
}

export interface RecordedRead extends DatasetRead {
  /** `process.argv.slice(1)` of the reading process: the loader's path, then its arguments. */
  readonly argv: readonly string[];
}

/** Notes that this process read `zone/dataset` version `version` (only inside a build). */
export function recordDatasetRead(read: DatasetRead): void {
  const dir = process.env[LOADER_READS_ENV];
  if (!dir) return;
  const line: RecordedRead = {
    zone: read.zone,
    dataset: read.dataset,
    version: read.version,
    ...(read.listing !== undefined && { listing: read.listing }),
    ...(read.where !== undefined && { where: read.where, rows: read.rows }),
    argv: process.argv.slice(1),
  };
  appendFileSync(join(dir, `${process.pid}.jsonl`), JSON.stringify(line) + "\n");
}

/** Every read recorded under `dir`; a torn last line (a killed loader) is skipped. */
export function readRecordedReads(dir: string): RecordedRead[] {
  const reads: RecordedRead[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith(".jsonl"));
  } catch {
    return reads;
  }
  for (const file of files) {
    for (const text of readFileSync(join(dir, file), "utf8").split("\n")) {
      if (!text) continue;
      try {
        reads.push(JSON.parse(text) as RecordedRead);
      } catch {
        // A loader killed mid-write leaves half a line; the build fails that loader anyway.
      }
    }
  }
  return reads;
}
