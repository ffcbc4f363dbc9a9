export { withDb, quoteIdentifier, quoteLiteral, type Db, type DbAccess, type DbOptions } from "./duckdb.ts";
export { describeSqlError } from "./sqlError.ts";
export {
  checkCsvFile,
  ingestCsv,
  INGESTED_AT,
  LANDING_SHA256,
  SOURCE_LINE,
  type CsvColumn,
  type CsvIngestSpec,
  type IngestResult,
  type IngestOptions,
  type RejectedRow,
} from "./csvIngest.ts";
export {
  promote,
  assertCompatible,
  type PromotionStep,
  type PromotionCandidate,
  type PromotionGate,
  type GateDecision,
  type PromotionResult,
  type DatasetRef,
} from "./promote.ts";
export { writeParquet, parquetRelation, DEFAULT_ROW_GROUP_SIZE, PARQUET_COMPRESSION } from "./parquetFile.ts";
export {
  readSnapshot,
  describeVersion,
  filteredRowsHash,
  type Snapshot,
  type DatasetInfo,
  type RowFilter,
} from "./snapshot.ts";
export { parseColumnList, normalizeCsvSpec, normalizeColumnType, normalizeDelimiter } from "./csvSpec.ts";
export { ingestJson, ingestRows, type JsonIngestSpec } from "./jsonIngest.ts";
export { ingestParquet, type ParquetIngestSpec } from "./parquetIngest.ts";
export { ingestLanding, type RawLoader } from "./rawIngest.ts";
export { documentRecords, ndjsonRecords, type JsonRecord } from "./jsonRecords.ts";
