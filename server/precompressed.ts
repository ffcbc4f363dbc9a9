/**
 * Picks the precompressed variant of a site file (`<file>.br` or `<file>.gz`, written once at
 * build: src/site/precompress.ts) that the request accepts. Brotli first, then gzip; none for a
 * Range request (ranges are served from the identity bytes) or an encoding refused with `q=0`.
 */
import { lstat } from "node:fs/promises";
import type { Request } from "express";

export interface Variant {
  readonly path: string;
  readonly encoding: "br" | "gzip";
}

const SUFFIX = { br: ".br", gzip: ".gz" } as const;

export async function maybePrecompressed(req: Request, path: string): Promise<Variant | undefined> {
  if (req.get("range") !== undefined) return undefined;
  const accepted = acceptedEncodings(req.get("accept-encoding") ?? "");
  for (const encoding of ["br", "gzip"] as const) {
    if (!accepted.has(encoding)) continue;
    const candidate = path + SUFFIX[encoding];
    // Written by the build beside the file: a regular file, never a link.
    const stats = await lstat(candidate).catch(() => undefined);
    if (stats?.isFile()) return { path: candidate, encoding };
  }
  return undefined;
}

function acceptedEncodings(header: string): Set<string> {
  const accepted = new Set<string>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (name && (q === undefined || Number(q.slice(2)) > 0)) accepted.add(name);
  }
  return accepted;
}
