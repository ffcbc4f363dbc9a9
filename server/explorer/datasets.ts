/**
 * The datasets a reader may query in the explorer: the current version of every dataset, in
 * every served zone (zones.ts), that the reader may read — nothing else, not even a name, so a
 * restricted dataset leaves no trace in the page. Each entry carries what the explorer shows and
 * needs: schema, rows, bytes, version, quality status, lineage, the model's description and owner
 * when the project declares them, and the `/lake` URLs of the version's files.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../../src/config.ts";
import { createLake, listHeads, type Manifest } from "../../src/lake/index.ts";
import type { AccessControl, Principal } from "../auth/accessControl.ts";
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
  /** Upstream versions this one was made from, and the catalog page that traces the rest. */
  lineage: { inputs: { zone: string; dataset: string; version: number }[]; href: string };
  files: { url: string; size: number; rows: number }[];
}

export async function listExplorerDatasets(
  config: Config,
  access: AccessControl,
  principal: Principal,
): Promise<ExplorerDataset[]> {
  const storage = createLake(config).storage;
  const result: ExplorerDataset[] = [];
  for (const zone of EXPLORER_ZONES) {
    if (!(await canReadZone(access, principal, zone))) continue;
    for (const head of await listHeads(storage, zone)) {
      if (!(await access.canReadPath(principal, `/lake/${zone}/${head.dataset}/`))) continue;
      result.push({ ...describeForExplorer(head), ...(await modelNotes(config, zone, head.dataset)) });
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
      href: `/catalog#${manifest.zone}-${manifest.dataset}`,
    },
    files: manifest.files.map((f) => ({ url: `/lake/${f.key}`, size: f.size, rows: f.rows })),
  };
}

/**
 * Description and owner from the project's model file (`models/<zone>/<dataset>.sql`), read from
 * its leading comment block or front matter (`-- description: ...`, `owner: ...`). A project
 * without model files, or a model without these lines, gives nulls.
 */
async function modelNotes(
  config: Config,
  zone: string,
  dataset: string,
): Promise<{ description: string | null; owner: string | null }> {
  const notes = { description: null as string | null, owner: null as string | null };
  let text: string;
  try {
    text = await readFile(join(config.root, "models", zone, `${dataset}.sql`), "utf8");
  } catch {
    return notes;
  }
  for (const line of text.split("\n").slice(0, 40)) {
    const match = /^\s*(?:--|#|\*)?\s*(description|owner)\s*:\s*(.+?)\s*$/i.exec(line);
    if (match) notes[match[1]!.toLowerCase() as "description" | "owner"] ??= match[2]!;
  }
  return notes;
}
