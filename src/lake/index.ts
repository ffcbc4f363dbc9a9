export type { Storage, ObjectInfo } from "./storage.ts";
export type { Manifest, ManifestDraft, ColumnSchema, DataFile, InputRef, LandingRef } from "./manifest.ts";
export { ZONES, isZone, type Zone, type VersionedZone } from "./zones.ts";
export { normalizeName, normalizeKey, joinKey } from "./names.ts";
export { createFsStorage } from "./fsStorage.ts";
export { createS3Storage, type S3Options } from "./s3Storage.ts";
export { createFileCommitLock, type CommitLock } from "./commitLock.ts";
export { createPgCommitLock, type PgCommitLock } from "./pgCommitLock.ts";
export { createLake, newWriteId, type Lake, type LakeOptions } from "./lake.ts";
export {
  commitVersion,
  listVersionNumbers,
  maybeHead,
  readManifest,
  versionKey,
  versionsPrefix,
  archivedVersionKey,
  listArchivedVersions,
  readArchivedManifest,
  type ArchivedManifest,
} from "./versions.ts";
export {
  commitBudget,
  commitRebasing,
  deleteQuietly,
  CommitBudget,
  DEFAULT_COMMIT_TIMEOUT_MS,
  type CommitBudgetOptions,
  type CommitOutcome,
  type RebaseDecision,
} from "./commit.ts";
export {
  landBytes,
  landLocalFile,
  listLanded,
  maybeLanded,
  sha256Hex,
  type LandingResult,
  type Provenance,
} from "./landing.ts";
export {
  listDatasets,
  listHeads,
  buildCatalog,
  describeDataset,
  listVersionSummaries,
  readAnyManifest,
  traceLineage,
  type DatasetEntry,
  type LandingLineage,
  type Lineage,
  type VersionSummary,
} from "./catalog.ts";
export { verifyVersion, sha256OfFile, type VerifyProblem } from "./verify.ts";
export {
  archiveLake,
  archiveVersions,
  planArchive,
  restoreVersion,
  type ArchiveOptions,
  type ArchivePlanEntry,
  type ArchiveResult,
  type RetentionPolicy,
} from "./archive.ts";
export {
  collectGarbage,
  referencedKeys,
  DEFAULT_GC_GRACE_MS,
  type GcCandidate,
  type GcOptions,
  type GcResult,
} from "./gc.ts";
export {
  LOADER_READS_ENV,
  listingOf,
  readRecordedReads,
  recordingReads,
  recordDatasetRead,
  type DatasetRead,
  type RecordedRead,
} from "./readRecord.ts";
