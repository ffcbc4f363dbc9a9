export {
  defineSuite,
  expectations,
  expectationName,
  isRowLevel,
  type Expectation,
  type ExpectationOptions,
  type ExpectationSpec,
  type Severity,
  type Suite,
} from "./suite.ts";
export {
  parseSuite,
  loadSuiteFile,
  loadSuites,
  maybeSuite,
  SUITES_DIR,
  EXPECTATION_TYPES,
} from "./suiteFile.ts";
export { checkSuite, typeKind } from "./check.ts";
export { SAMPLE_ROWS } from "./compile.ts";
export {
  validateRelation,
  type ValidationReport,
  type ExpectationResult,
  type QualityStatus,
} from "./validate.ts";
export { validateVersion, type ValidateVersionOptions } from "./versionCheck.ts";
export { qualityGate, quarantineKey, QUARANTINE_REASON, type GateOptions } from "./gate.ts";
export {
  listValidations,
  qualityHistory,
  readValidation,
  latestValidation,
  latestGoodVersion,
  validationKey,
  type StoredValidation,
  type ValidationSummary,
} from "./results.ts";
export { readCheckedSnapshot, type CheckedSnapshot, type SnapshotQuality } from "./snapshot.ts";
export { qualityReport, type QualityReport, type DatasetQuality } from "./report.ts";
