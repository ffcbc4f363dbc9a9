/** Types of datasetRefs.js for the server, which resolves queries the same way as the browser. */
export declare class DatasetRefError extends Error {
  readonly position: number;
}
export interface DatasetRef {
  zone: string;
  dataset: string;
  version: number;
  explicit: boolean;
}
export declare function resolveDatasetRefs(
  sql: string,
  datasets: readonly { zone: string; dataset: string; version: number }[],
  pins?: Readonly<Record<string, number>>,
): { sql: string; refs: DatasetRef[] };
export declare function quote(name: string): string;
