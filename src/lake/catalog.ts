/**
 * The catalog: which datasets each zone holds, their versions (live and archived), schema, rows,
 * bytes and lineage. It is derived from the committed manifests and landing records alone, so it
 * can never disagree with what readers see.
 */
import { maybeLanded } from "./landing.ts";
import type { ColumnSchema, InputRef, Manifest } from "./manifest.ts";
import type { Storage } from "./storage.ts";
import {
  listArchivedVersions,
  listVersionNumbers,
  maybeHead,
  readArchivedManifest,
  readManifest,
} from "./versions.ts";
import type { VersionedZone } from "./zones.ts";
import { listingOf, recordDatasetRead, recordingReads } from "./readRecord.ts";

const VERSION_KEY = /^([a-z]+)\/([A-Za-z0-9_-]+)\/_versions\/\d{8}\.json$/;
const VERSIONED_ZONES: VersionedZone[] = ["raw", "staging", "curated"];

/**
 * Names of the datasets with at least one committed version in `zone`, sorted. Inside a build's
 * loader the listing is recorded with every dataset's current version (readRecord.ts), so a
 * catalog page is rebuilt when any dataset of the zone moves, or one appears or goes.
 */
export async function listDatasets(storage: Storage, zone: VersionedZone): Promise<string[]> {
  const names = await datasetNames(storage, zone);
  if (recordingReads()) await headsOf(storage, zone, names);
  return names;
}

/** The current manifest of every dataset in `zone`. */
export async function listHeads(storage: Storage, zone: VersionedZone): Promise<Manifest[]> {
  return headsOf(storage, zone, await datasetNames(storage, zone));
}

async function headsOf(storage: Storage, zone: VersionedZone, names: readonly string[]): Promise<Manifest[]> {
  const heads = (await Promise.all(names.map((name) => maybeHead(storage, zone, name)))).filter(
    (head): head is Manifest => head !== undefined,
  );
  if (recordingReads()) recordDatasetRead({ zone, dataset: "*", version: 0, listing: listingOf(heads) });
  return heads;
}

async function datasetNames(storage: Storage, zone: VersionedZone): Promise<string[]> {
  const names = new Set<string>();
  for (const { key } of await storage.list(`${zone}/`)) {
    const match = VERSION_KEY.exec(key);
    if (match?.[2]) names.add(match[2]);
  }
  return [...names].sort();
}

export interface VersionSummary {
  version: number;
  parent: number | null;
  createdAt: string;
  rowCount: number;
  bytes: number;
  /** `live`: readable in its zone; `archived`: in archive/, restorable. */
  status: "live" | "archived";
}

export interface LandingLineage {
  key: string;
  sha256: string;
  source: string;
  /** From the landing's provenance record. */
  origin: string | null;
  fetchedAt: string | null;
  bytes: number | null;
}

/** Where a version's rows came from, followed through every upstream version. */
export interface Lineage {
  /** Every upstream dataset version, nearest first. */
  upstream: InputRef[];
  /** The landing files the rows were parsed from. */
  landing: LandingLineage[];
  /** Source runs that produced any upstream version. */
  sourceRuns: string[];
}

export interface DatasetEntry {
  zone: VersionedZone;
  dataset: string;
  /** The current version; null when every version is archived. */
  head: number | null;
  schema: ColumnSchema[];
  rowCount: number;
  bytes: number;
  versions: VersionSummary[];
  lineage: Lineage;
}

/** Reads a version's manifest wherever it is, live or archived. */
export async function readAnyManifest(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
  version: number,
): Promise<Manifest & { status: "live" | "archived" }> {
  const live = await listVersionNumbers(storage, zone, dataset);
  if (live.includes(version))
    return { ...(await readManifest(storage, zone, dataset, version)), status: "live" };
  return { ...(await readArchivedManifest(storage, zone, dataset, version)), status: "archived" };
}

export async function traceLineage(storage: Storage, manifest: Manifest): Promise<Lineage> {
  const upstream: InputRef[] = [];
  const sourceRuns = new Set<string>();
  const landing = new Map<string, Manifest["lineage"]["landing"][number]>();
  const seen = new Set<string>();
  const queue: Manifest[] = [manifest];
  while (queue.length > 0) {
    const current = queue.shift()!;
    if (current.sourceRun) sourceRuns.add(current.sourceRun);
    for (const ref of current.lineage.landing) landing.set(ref.sha256, ref);
    for (const run of current.lineage.sourceRuns ?? []) sourceRuns.add(run);
    for (const input of current.lineage.inputs) {
      const id = `${input.zone}/${input.dataset}@${input.version}`;
      if (seen.has(id)) continue;
      seen.add(id);
      upstream.push(input);
      const parent = await readAnyManifest(
        storage,
        input.zone as VersionedZone,
        input.dataset,
        input.version,
      ).catch(() => undefined);
      if (parent) queue.push(parent);
    }
  }
  const landingLineage = await Promise.all(
    [...landing.values()].map(async (ref): Promise<LandingLineage> => {
      const record = await maybeLanded(storage, ref.source, ref.sha256);
      return {
        ...ref,
        origin: record?.origin ?? null,
        fetchedAt: record?.fetchedAt ?? null,
        bytes: record?.bytes ?? null,
      };
    }),
  );
  return {
    upstream,
    landing: landingLineage.sort((a, b) => (a.fetchedAt ?? "").localeCompare(b.fetchedAt ?? "")),
    sourceRuns: [...sourceRuns].sort(),
  };
}

/** Every version of a dataset, live and archived, ascending. */
export async function listVersionSummaries(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
): Promise<VersionSummary[]> {
  const live = await listVersionNumbers(storage, zone, dataset);
  const archived = await listArchivedVersions(storage, zone, dataset);
  const summaries = await Promise.all([
    ...live.map(async (v) => summarize(await readManifest(storage, zone, dataset, v), "live")),
    ...archived
      .filter((v) => !live.includes(v))
      .map(async (v) => summarize(await readArchivedManifest(storage, zone, dataset, v), "archived")),
  ]);
  return summaries.sort((a, b) => a.version - b.version);
}

function summarize(manifest: Manifest, status: "live" | "archived"): VersionSummary {
  const { version, parent, createdAt, rowCount, bytes } = manifest;
  return { version, parent, createdAt, rowCount, bytes, status };
}

/** One dataset's catalog entry (its head's schema, rows, bytes and lineage); undefined if unknown. */
export async function describeDataset(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
): Promise<DatasetEntry | undefined> {
  const versions = await listVersionSummaries(storage, zone, dataset);
  if (versions.length === 0) return undefined;
  const head = await maybeHead(storage, zone, dataset);
  const shown = head ?? (await readArchivedManifest(storage, zone, dataset, versions.at(-1)!.version));
  return {
    zone,
    dataset,
    head: head?.version ?? null,
    schema: shown.schema,
    rowCount: shown.rowCount,
    bytes: shown.bytes,
    versions,
    lineage: await traceLineage(storage, shown),
  };
}

/** The whole catalog: every dataset of the versioned zones, in zone order. */
export async function buildCatalog(storage: Storage): Promise<DatasetEntry[]> {
  const entries: DatasetEntry[] = [];
  for (const zone of VERSIONED_ZONES) {
    const names = new Set(await listDatasets(storage, zone));
    for (const { key } of await storage.list(`archive/${zone}/`)) {
      const match = /^archive\/[a-z]+\/([A-Za-z0-9_-]+)\/_versions\//.exec(key);
      if (match?.[1]) names.add(match[1]);
    }
    for (const name of [...names].sort()) {
      const entry = await describeDataset(storage, zone, name);
      if (entry) entries.push(entry);
    }
  }
  return entries;
}
