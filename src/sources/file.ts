/**
 * The file source: reads a local file (a bundled sample or a drop folder) and lands its bytes
 * unchanged, with the file's absolute path as origin.
 */
import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { SourceError } from "../errors.ts";
import { type LandingResult, type Storage, landBytes } from "../lake/index.ts";

const CONTENT_TYPES: Record<string, string> = {
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  json: "application/json",
  parquet: "application/vnd.apache.parquet",
};

export async function landFile(
  storage: Storage,
  input: { source: string; path: string; now?: Date },
): Promise<LandingResult> {
  const path = resolve(input.path);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new SourceError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}; check the path`,
      {
        cause: error,
      },
    );
  }
  const extension = extname(path).slice(1).toLowerCase() || "bin";
  return landBytes(storage, {
    source: input.source,
    origin: `file://${path}`,
    data,
    extension,
    contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
    now: input.now,
  });
}
