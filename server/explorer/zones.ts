/**
 * Which lake zones the explorer (and `/lake` over HTTP) serves, and who may read each. Decided
 * here, once: curated is for every reader; staging, like the API's non-curated zones, needs the
 * `readOps` capability (analysts and admins). Raw and landing are never served: raw is per-source
 * and unreconciled, landing holds bytes as fetched. Access rules by path prefix
 * (`canReadPath('/lake/<zone>/<dataset>/')`) narrow every zone further.
 */
import type { AccessControl, Capability, Principal } from "../auth/accessControl.ts";

export const EXPLORER_ZONES = ["curated", "staging"] as const;
export type ExplorerZone = (typeof EXPLORER_ZONES)[number];

const ZONE_CAPABILITY: Readonly<Record<ExplorerZone, Capability>> = {
  curated: "read",
  staging: "readOps",
};

export function isExplorerZone(zone: string | undefined): zone is ExplorerZone {
  return (EXPLORER_ZONES as readonly string[]).includes(zone ?? "");
}

/** Whether `principal` may read the zone at all (before any per-dataset rule). */
export async function canReadZone(
  access: AccessControl,
  principal: Principal,
  zone: ExplorerZone,
): Promise<boolean> {
  return access.can(principal, ZONE_CAPABILITY[zone]);
}

/** Whether `principal` may read one dataset of a served zone: the zone's capability and the rules. */
export async function canReadDataset(
  access: AccessControl,
  principal: Principal,
  zone: string,
  dataset: string,
): Promise<boolean> {
  if (!isExplorerZone(zone)) return false;
  if (!(await canReadZone(access, principal, zone))) return false;
  return access.canReadPath(principal, `/lake/${zone}/${dataset}/`);
}
