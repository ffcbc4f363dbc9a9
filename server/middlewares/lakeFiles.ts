import { join } from "node:path";
import type { Request, Response } from "express";
import type { Config } from "../../src/config.ts";
import { HttpError } from "../../src/errors.ts";
import { NO_CONTENT_POLICY } from "../contentSecurityPolicy.ts";
import { maybeFileInside, maybeRealpath } from "../safePath.ts";
import { sendStaticFile } from "../staticFile.ts";
import { canonicalPathOf } from "./canonicalPath.ts";

/** The only lake zone readable over HTTP. */
const SERVED_ZONE = "curated";

/**
 * `GET|HEAD /lake/curated/<dataset>/...`: files of the curated zone, with range requests for
 * DuckDB-WASM. Every other zone and every internal name (`_versions/`, `.tmp-*`, ...) is a 404,
 * the same answer as a missing file, so the lake's layout cannot be probed. No CORS header: the
 * explorer is same-origin. `no-cache` because a dataset's current files change between versions;
 * the ETag keeps revalidation to a 304.
 */
export function lakeFiles(config: Config) {
  const zoneDir = join(config.lakeDir, SERVED_ZONE);
  return async function lakeFiles(req: Request, res: Response): Promise<void> {
    const [, zone, ...names] = canonicalPathOf(res).segments;
    if (zone !== SERVED_ZONE || names.length < 2 || names.some(isInternalName)) throw notFound();
    // Resolved per request: the zone folder may be created after the server started.
    const root = await maybeRealpath(zoneDir);
    const file = root === undefined ? undefined : await maybeFileInside(root, names);
    if (file === undefined) throw notFound();
    await sendStaticFile(req, res, file, {
      cacheControl: "no-cache",
      headers: { "Content-Security-Policy": NO_CONTENT_POLICY },
    });
  };
}

function isInternalName(name: string): boolean {
  return name === "" || name.startsWith("_") || name.startsWith(".");
}

function notFound(): HttpError {
  return new HttpError(404, "not found: the lake serves /lake/curated/<dataset>/<file> only");
}
