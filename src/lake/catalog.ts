/**
 * The catalog: which datasets each zone holds and what their current versions are. It is derived
 * from the committed manifests alone, so it can never disagree with what readers see.
 */
import { maybeHead } from "./versions.ts";
import type { Manifest } from "./manifest.ts";
import type { Storage } from "./storage.ts";
import type { VersionedZone } from "./zones.ts";

const VERSION_KEY = /^([a-z]+)\/([A-Za-z0-9_-]+)\/_versions\/\d{8}\.json$/;

/** Names of the datasets with at least one committed version in `zone`, sorted. */
export async function listDatasets(storage: Storage, zone: VersionedZone): Promise<string[]> {
  const names = new Set<string>();
  for (const { key } of await storage.list(`${zone}/`)) {
    const match = VERSION_KEY.exec(key);
    if (match?.[2]) names.add(match[2]);
  }
  return [...names].sort();
}

/** The current manifest of every dataset in `zone`. */
export async function listHeads(storage: Storage, zone: VersionedZone): Promise<Manifest[]> {
  const heads = await Promise.all(
    (await listDatasets(storage, zone)).map((name) => maybeHead(storage, zone, name)),
  );
  return heads.filter((head): head is Manifest => head !== undefined);
}
