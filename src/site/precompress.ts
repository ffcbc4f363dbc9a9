/**
 * Compresses a finished build once, so the server never compresses per request: every text or
 * WASM asset of at least 1 KiB gets `<file>.br` (brotli) and `<file>.gz` (gzip) beside it, kept
 * only when smaller than the original. HTML pages are left alone (the server rewrites them per
 * request: build stamp, policy), as are Parquet and images (already compressed). The server picks
 * a variant by Accept-Encoding (server/middlewares/siteFiles.ts).
 */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const COMPRESSIBLE = new Set([".js", ".mjs", ".css", ".json", ".wasm", ".svg", ".map", ".csv", ".txt"]);
const MIN_BYTES = 1024;
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export interface PrecompressResult {
  readonly files: number;
  readonly bytesBefore: number;
  readonly bytesBrotli: number;
}

export async function precompressBuild(dir: string): Promise<PrecompressResult> {
  let files = 0;
  let bytesBefore = 0;
  let bytesBrotli = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.has(extname(entry.name))) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await stat(path)).size < MIN_BYTES) continue;
    const content = await readFile(path);
    // Quality 11 is worth its time on small files only; past 1 MiB (the DuckDB wasm) quality 5
    // is 4x faster than 9 for 5% more bytes, which keeps builds quick.
    const size = content.length;
    const quality = size <= 256 * 1024 ? 11 : size <= 1024 * 1024 ? 9 : 5;
    const [br, gzipped] = await Promise.all([
      brotli(content, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: quality,
          [constants.BROTLI_PARAM_SIZE_HINT]: size,
        },
      }),
      gz(content, { level: size <= 1024 * 1024 ? 9 : 6 }),
    ]);
    if (br.length < content.length) await writeFile(`${path}.br`, br);
    if (gzipped.length < content.length) await writeFile(`${path}.gz`, gzipped);
    files += 1;
    bytesBefore += content.length;
    bytesBrotli += Math.min(br.length, content.length);
  }
  return { files, bytesBefore, bytesBrotli };
}
