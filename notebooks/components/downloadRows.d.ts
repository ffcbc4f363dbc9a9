/** Types of downloadRows.js for its tests in Node. */
export interface DownloadColumn {
  readonly name: string;
  readonly type: string;
}
export declare function prepare(
  data: unknown,
  columnNames?: readonly string[],
  types?: Readonly<Record<string, string>>,
): { columns: DownloadColumn[]; rows: Record<string, unknown>[] };
