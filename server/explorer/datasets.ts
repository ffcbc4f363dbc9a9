/**
 * The datasets a reader may query in the explorer: the current version of every dataset, in
 * every served zone (zones.ts), that the reader may read — nothing else, not even a name, so a
 * restricted dataset leaves no trace in the page. Each entry carries what the explorer shows and
 * needs: schema, rows, bytes, version, quality status, lineage, the model's description and owner
 * when the project declares them, and the `/lake` URLs of the version's files.
 */
import type { Config } from "../../src/config.ts";
import { createLake, listHeads, type Manifest } from "../../src/lake/index.ts";
import { loadModels, type ProjectModel } from "../../src/project/index.ts";
import type { AccessControl, Principal } from "../auth/accessControl.ts";
import { catalogEntryHref } from "../pages/catalogEntryPage.ts";
import { EXPLORER_ZONES, canReadZone } from "./zones.ts";

export interface ExplorerDataset {
  zone: string;
  dataset: string;
  version: number;
  createdAt: string;
  rowCount: number;
  bytes: number;
  schema: { name: string; type: string }[];
  quality: "pass" | "warn" | "fail" | null;
  description: string | null;
  owner: string | null;
  /** Upstream versions this one was made from, and the version's catalog entry that traces the rest. */
  lineage: { inputs: { zone: string; dataset: string; version: number }[]; href: string };
  files: { url: string; size: number; rows: number }[];
}

const NO_NOTES = { description: null, owner: null } as const;

export async function listExplorerDatasets(
  config: Config,
  access: AccessControl,
  principal: Principal,
): Promise<ExplorerDataset[]> {
  const storage = createLake(config).storage;
  const result: ExplorerDataset[] = [];
  const notes = await modelNotes(config);
  for (const zone of EXPLORER_ZONES) {
    if (!(await canReadZone(access, principal, zone))) continue;
    for (const head of await listHeads(storage, zone)) {
      if (!(await access.canReadPath(principal, `/lake/${zone}/${head.dataset}/`))) continue;
      result.push({ ...describeForExplorer(head), ...(notes.get(`${zone}.${head.dataset}`) ?? NO_NOTES) });
    }
  }
  return result;
}

/** A version as the explorer shows it (also used for an older version named as `zone.ds@n`). */
export function describeForExplorer(manifest: Manifest): Omit<ExplorerDataset, "description" | "owner"> {
  return {
    zone: manifest.zone,
    dataset: manifest.dataset,
    version: manifest.version,
    createdAt: manifest.createdAt,
    rowCount: manifest.rowCount,
    bytes: manifest.bytes,
    schema: manifest.schema,
    quality: manifest.quality?.status ?? null,
    lineage: {
      inputs: manifest.lineage.inputs.map(({ zone, dataset, version }) => ({ zone, dataset, version })),
      href: catalogEntryHref(manifest.zone, manifest.dataset, manifest.version),
    },
    files: manifest.files.map((f) => ({ url: `/lake/${f.key}`, size: f.size, rows: f.rows })),
  };
}

/**
 * Description and owner of each model, from the settings header of its file
 * (`models/<zone>/<dataset>.sql`, parsed by src/project/modelFile.ts), keyed `<zone>.<dataset>`.
 * A project without model files, or whose models do not parse (the run reports those), gives
 * none: the explorer then shows nulls rather than failing.
 */
async function modelNotes(
  config: Config,
): Promise<Map<string, { description: string | null; owner: string | null }>> {
  const notes = new Map<string, { description: string | null; owner: string | null }>();
  let models: ProjectModel[];
  try {
    models = await loadModels(config.root);
  } catch {
    return notes;
  }
  for (const { id, settings } of models) {
    notes.set(id, { description: settings.description ?? null, owner: settings.owner ?? null });
  }
  return notes;
}
