/**
 * A dataset version's manifest: the complete, immutable description of one committed version.
 * Data files are written first under a fresh write folder; the version becomes visible only when
 * its manifest is committed (see versions.ts), so a reader that finds a manifest always finds
 * every file it names.
 */
import type { VersionedZone } from "./zones.ts";

export interface ColumnSchema {
  name: string;
  /** DuckDB type name, e.g. `DECIMAL(18,4)`, `DATE`, `TIMESTAMP WITH TIME ZONE`. */
  type: string;
}

export interface DataFile {
  key: string;
  size: number;
  sha256: string;
  rows: number;
  /**
   * Partition values of the file's rows: raw files' landing (`{ source, date, landing }`), or a
   * model's `partition_by` columns as text (null for NULL), e.g. `{ region: "EU" }`.
   */
  partition?: Record<string, string | null>;
}

export interface InputRef {
  zone: string;
  dataset: string;
  version: number;
}

export interface LandingRef {
  key: string;
  sha256: string;
  source: string;
}

export interface Manifest {
  formatVersion: 1;
  zone: VersionedZone;
  dataset: string;
  version: number;
  parent: number | null;
  createdAt: string;
  writeId: string;
  schema: ColumnSchema[];
  rowCount: number;
  bytes: number;
  files: DataFile[];
  /** Rows that could not be parsed, written beside the data with their line numbers. */
  rejects: { count: number; key: string | null };
  /** Where the rows came from; `step` fingerprints the promotion step (its SQL and options). */
  lineage: {
    inputs: InputRef[];
    landing: LandingRef[];
    step?: string;
    /** Source runs of the inputs, carried forward so a curated version names every run it holds. */
    sourceRuns?: string[];
    /** Set by `lakebook compact`: the version whose rows this one holds, rewritten into new files. */
    compaction?: { from: number };
  };
  /** The source run that produced this version, when a source did. */
  sourceRun: string | null;
  /** Filled by the quality gate; null until a suite has validated the version. */
  quality: null | { status: "pass" | "warn" | "fail"; key: string };
}

/** What a writer provides; version, parent and createdAt are assigned at commit. */
export type ManifestDraft = Omit<Manifest, "formatVersion" | "version" | "parent" | "createdAt">;
