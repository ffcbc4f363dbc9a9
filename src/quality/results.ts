/**
 * Validation results in the lake, beside the dataset's versions:
 * `<zone>/<dataset>/_quality/<runId>.json`, one immutable object per validation run.
 *
 * - A gate run validates a promotion candidate; its `writeId` is the candidate's. When the
 *   version is committed its manifest carries the same writeId (and `quality.key` points here);
 *   a failed gate run matches no manifest: the promotion was blocked.
 * - A check run (`lakebook validate`) validates a committed version again, e.g. after the suite
 *   changed; the newest run of a version is its current quality.
 * - A passing gate run whose candidate was never committed (the promotion crashed, or lost to
 *   another writer and was redone) is no result of anything: history and the latest run ignore
 *   it, and `lake gc` removes it. Only runs of committed versions (live or archived) and failed
 *   gate runs (an explicit record of a blocked promotion) count.
 * Run ids start with a UTC timestamp, so listing order is run order.
 */
import { DataError } from "../errors.ts";
import {
  type Lake,
  type Manifest,
  type VersionedZone,
  joinKey,
  listArchivedVersions,
  listVersionNumbers,
  normalizeName,
  readArchivedManifest,
  readManifest,
} from "../lake/index.ts";
import type { QualityStatus, ValidationReport } from "./validate.ts";

export interface StoredValidation extends ValidationReport {
  formatVersion: 1;
  runId: string;
  kind: "gate" | "check";
  zone: VersionedZone;
  dataset: string;
  /** The suite file (or TypeScript suite) that was run. */
  suite: string;
  /** The data write validated: the version's writeId, or the promotion candidate's. */
  writeId: string;
  /** The version validated; for gate runs, the version the candidate would have become. */
  version: number;
  /** Rows routed to quarantine by this run, and the Parquet file holding them with their reasons. */
  quarantine: { count: number; key: string } | null;
}

/** One row of a dataset's quality history. */
export interface ValidationSummary {
  runId: string;
  kind: "gate" | "check";
  key: string;
  status: QualityStatus;
  /** The committed version validated, or null when the candidate was not committed (blocked). */
  version: number | null;
  blocked: boolean;
  rowCount: number;
  successPercent: number;
  failed: string[];
  validatedAt: string;
}

export function qualityPrefix(zone: VersionedZone, dataset: string): string {
  return joinKey(zone, normalizeName(dataset), "_quality") + "/";
}

export function validationKey(zone: VersionedZone, dataset: string, runId: string): string {
  return joinKey(zone, normalizeName(dataset), "_quality", `${runId}.json`);
}

export async function writeValidation(lake: Lake, validation: StoredValidation): Promise<string> {
  const key = validationKey(validation.zone, validation.dataset, validation.runId);
  await lake.storage.write(key, JSON.stringify(validation, null, 2) + "\n");
  return key;
}

/** Every validation run of a dataset, oldest first. */
export async function listValidations(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
): Promise<StoredValidation[]> {
  const objects = await lake.storage.list(qualityPrefix(zone, dataset));
  const runs = await Promise.all(
    objects.filter((o) => o.key.endsWith(".json")).map((o) => readStored(lake, o.key)),
  );
  return runs.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

async function readStored(lake: Lake, key: string): Promise<StoredValidation> {
  const bytes = await lake.storage.read(key);
  try {
    return JSON.parse(bytes.toString("utf8")) as StoredValidation;
  } catch (error) {
    throw new DataError(`validation result ${key} is not valid JSON; delete it and run 'lakebook validate'`, {
      cause: error,
    });
  }
}

/** Committed versions, live and archived, by write id. */
async function manifestsByWriteId(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
): Promise<Map<string, Manifest>> {
  const [live, archived] = await Promise.all([
    listVersionNumbers(lake.storage, zone, dataset),
    listArchivedVersions(lake.storage, zone, dataset),
  ]);
  const manifests = await Promise.all([
    ...archived.map((v) => readArchivedManifest(lake.storage, zone, dataset, v)),
    ...live.map((v) => readManifest(lake.storage, zone, dataset, v)),
  ]);
  return new Map(manifests.map((m) => [m.writeId, m]));
}

/** A failed gate run: the explicit record of a promotion its gate blocked. */
function isBlockedGate(run: StoredValidation): boolean {
  return run.kind === "gate" && run.status === "fail";
}

/**
 * The validation runs that count, oldest first, each with the committed version it validated
 * (undefined for a blocked gate): runs of writes never committed are left out.
 */
async function countedValidations(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
): Promise<{ run: StoredValidation; manifest: Manifest | undefined }[]> {
  const [runs, manifests] = await Promise.all([
    listValidations(lake, zone, dataset),
    manifestsByWriteId(lake, zone, dataset),
  ]);
  return runs
    .map((run) => ({ run, manifest: manifests.get(run.writeId) }))
    .filter(({ run, manifest }) => manifest !== undefined || isBlockedGate(run));
}

/** The dataset's quality history, oldest first, with each run resolved to its committed version. */
export async function qualityHistory(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
): Promise<ValidationSummary[]> {
  return (await countedValidations(lake, zone, dataset)).map(({ run, manifest }) => {
    // A run that counts without a committed version is a failed gate run: its candidate was blocked.
    const blocked = manifest === undefined;
    const version = manifest?.version ?? null;
    return {
      runId: run.runId,
      kind: run.kind,
      key: validationKey(zone, dataset, run.runId),
      status: run.status,
      version,
      blocked,
      rowCount: run.rowCount,
      successPercent: run.statistics.successPercent,
      failed: run.results.filter((r) => !r.success).map((r) => r.expectation),
      validatedAt: run.validatedAt,
    };
  });
}

/** The newest validation of a committed version, or undefined when it was never validated. */
export async function readValidation(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  version: number,
): Promise<StoredValidation | undefined> {
  const manifest = await readManifest(lake.storage, zone, dataset, version);
  const runs = await listValidations(lake, zone, dataset);
  return runs.filter((r) => r.writeId === manifest.writeId).at(-1);
}

/** The newest validation run of a dataset (of a committed version, or a blocked gate), or undefined. */
export async function latestValidation(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
): Promise<StoredValidation | undefined> {
  return (await countedValidations(lake, zone, dataset)).at(-1)?.run;
}

/**
 * The newest committed version whose current quality is not `fail` (versions never validated
 * count as good: they were committed without a suite), or undefined when there is none.
 */
export async function latestGoodVersion(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
): Promise<Manifest | undefined> {
  const [runs, versions] = await Promise.all([
    listValidations(lake, zone, dataset),
    listVersionNumbers(lake.storage, zone, dataset),
  ]);
  const latestByWrite = new Map(runs.map((r) => [r.writeId, r.status]));
  for (const version of [...versions].reverse()) {
    const manifest = await readManifest(lake.storage, zone, dataset, version);
    if (latestByWrite.get(manifest.writeId) !== "fail") return manifest;
  }
  return undefined;
}
