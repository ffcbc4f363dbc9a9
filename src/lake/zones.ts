/**
 * The lake's zones, in the order data moves through them. Each zone is a top-level folder of the
 * lake; only `curated` is ever served to browsers.
 */
export const ZONES = ["landing", "raw", "staging", "curated", "archive"] as const;
export type Zone = (typeof ZONES)[number];

/** Zones whose datasets are versioned Parquet (landing holds content-addressed bytes instead). */
export type VersionedZone = Exclude<Zone, "landing" | "archive">;

export function isZone(value: unknown): value is Zone {
  return typeof value === "string" && (ZONES as readonly string[]).includes(value);
}
