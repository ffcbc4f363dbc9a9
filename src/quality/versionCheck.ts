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

/** The datasets the suite's referential expectations point at, each once. */
export function referencedDatasets(suite: Suite): { zone: VersionedZone; dataset: string }[] {
  const seen = new Map<string, { zone: VersionedZone; dataset: string }>();
  for (const e of suite.expectations) {
    if (e.type === "referential") seen.set(referenceKey(e.to), { zone: e.to.zone, dataset: e.to.dataset });
  }
  return [...seen.values()];
}

/** The local files of the current versions of the datasets the suite refers to (absent: no version). */
async function referenceFiles(lake: Lake, suite: Suite): Promise<{ name: string; paths: string[] }[]> {
  const found: { name: string; paths: string[] }[] = [];
  for (const ref of referencedDatasets(suite)) {
    const head = await maybeHead(lake.storage, ref.zone, ref.dataset);
    if (!head) continue;
    const paths = await Promise.all(head.files.map((f) => lake.storage.localPath(f.key)));
    found.push({ name: referenceKey(ref), paths });
  }
  return found;
}

/** Views over the given reference files, by `zone/dataset`. */
async function attachReferences(
  db: Db,
  references: { name: string; paths: string[] }[],
): Promise<Map<string, string>> {
  const views = new Map<string, string>();
  for (const { name, paths } of references) {
    const view = `_lakebook_ref_${views.size}`;
    await db.run(`CREATE TEMP VIEW ${view} AS SELECT * FROM ${parquetRelation(paths)}`);
    views.set(name, view);
  }
  return views;
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
  // The suite is checked against the manifest's schema before any data file is opened (or, on
  // S3, downloaded), on a connection that can open no file at all.
  const schemas = await referencedSchemas(lake, suite);
  await withDb((db) => checkSuite(db, suite, manifest.schema, schemas), { access: { files: [] } });
  const paths = await Promise.all(manifest.files.map((f) => lake.storage.localPath(f.key)));
  const references = await referenceFiles(lake, suite);
  // The suite's predicates can open only the version's files and those of the datasets it refers
  // to (duckdb.ts, sandbox).
  const access = { files: [...paths, ...references.flatMap((r) => r.paths)] };
  const report = await withDb(
    async (db) => {
      await db.run(`CREATE TEMP VIEW _lakebook_version AS SELECT * FROM ${parquetRelation(paths)}`);
      return validateRelation(db, suite, {
        relation: "_lakebook_version",
        schema: manifest.schema,
        previousRowCount: previous?.rowCount ?? null,
        references: await attachReferences(db, references),
        checked: true,
        now,
      });
    },
    { access },
  );
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
