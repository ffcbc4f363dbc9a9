/**
 * Validating a committed dataset version (`lakebook validate`, notebooks, the server): the
 * version's files are opened read-only in DuckDB, the suite runs, and the result is stored as a
 * check run beside the version (results.ts). The lake's data is never modified.
 */
import { QualityError } from "../errors.ts";
import {
  type ColumnSchema,
  type Lake,
  type VersionedZone,
  maybeHead,
  newWriteId,
  readManifest,
} from "../lake/index.ts";
import { type Db, parquetRelation, withDb } from "../pipeline/index.ts";
import { checkSuite, referenceKey } from "./check.ts";
import { type StoredValidation, writeValidation } from "./results.ts";
import type { Suite } from "./suite.ts";
import { validateRelation } from "./validate.ts";

/** Schemas of the datasets the suite's referential expectations point at (undefined: no version). */
export async function referencedSchemas(
  lake: Lake,
  suite: Suite,
): Promise<Map<string, ColumnSchema[] | undefined>> {
  const schemas = new Map<string, ColumnSchema[] | undefined>();
  for (const e of suite.expectations) {
    if (e.type !== "referential" || schemas.has(referenceKey(e.to))) continue;
    schemas.set(referenceKey(e.to), (await maybeHead(lake.storage, e.to.zone, e.to.dataset))?.schema);
  }
  return schemas;
}

/** Views over the current versions of the datasets referential expectations point at. */
export async function attachReferences(lake: Lake, db: Db, suite: Suite): Promise<Map<string, string>> {
  const references = new Map<string, string>();
  for (const e of suite.expectations) {
    if (e.type !== "referential" || references.has(referenceKey(e.to))) continue;
    const head = await maybeHead(lake.storage, e.to.zone, e.to.dataset);
    if (!head) continue;
    const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
    const view = `_lakebook_ref_${references.size}`;
    await db.run(`CREATE TEMP VIEW ${view} AS SELECT * FROM ${parquetRelation(paths)}`);
    references.set(referenceKey(e.to), view);
  }
  return references;
}

export interface ValidateVersionOptions {
  /** Default: the current version. */
  version?: number;
  /** Store the result as a check run (default true). */
  store?: boolean;
  now?: () => Date;
}

export async function validateVersion(
  lake: Lake,
  suite: Suite,
  options: ValidateVersionOptions = {},
): Promise<StoredValidation> {
  const { zone, dataset } = suite;
  const manifest =
    options.version === undefined
      ? await maybeHead(lake.storage, zone, dataset)
      : await readManifest(lake.storage, zone, dataset, options.version);
  if (!manifest) throw new QualityError(`${zone}/${dataset} has no version yet: run its pipeline first`);
  const previous =
    manifest.parent === null ? null : await readManifest(lake.storage, zone, dataset, manifest.parent);
  const now = options.now ?? (() => new Date());
  const report = await withDb(async (db) => {
    // The suite is checked against the manifest's schema before any data file is opened.
    const schemas = await referencedSchemas(lake, suite);
    await checkSuite(db, suite, manifest.schema, schemas);
    const paths = await Promise.all(manifest.files.map((f) => lake.storage.localPath(f.key)));
    await db.run(`CREATE TEMP VIEW _lakebook_version AS SELECT * FROM ${parquetRelation(paths)}`);
    return validateRelation(db, suite, {
      relation: "_lakebook_version",
      schema: manifest.schema,
      previousRowCount: previous?.rowCount ?? null,
      references: await attachReferences(lake, db, suite),
      checked: true,
      now,
    });
  });
  const validation: StoredValidation = {
    formatVersion: 1,
    runId: newWriteId(now()),
    kind: "check",
    zone: zone as VersionedZone,
    dataset,
    suite: suite.source,
    writeId: manifest.writeId,
    version: manifest.version,
    quarantine: null,
    ...report,
  };
  if (options.store !== false) await writeValidation(lake, validation);
  return validation;
}
