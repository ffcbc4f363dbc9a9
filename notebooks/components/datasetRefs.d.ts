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
): { sql: string; refs: DatasetRef[]; edits: RefEdit[] };
/** One rewrite: `from`..`to` in the SQL as written became `at`..`end` in the rewritten SQL. */
export interface RefEdit {
  from: number;
  to: number;
  at: number;
  end: number;
}
export declare function originalPosition(edits: readonly RefEdit[], position: number): number;
export declare function duckErrorPosition(message: unknown, sql: string): number | undefined;
export declare function quote(name: string): string;
