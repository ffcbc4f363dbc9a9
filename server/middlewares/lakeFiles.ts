import { join } from "node:path";
import type { Request, Response } from "express";
import type { Config } from "../../src/config.ts";
import { HttpError } from "../../src/errors.ts";
import { NO_CONTENT_POLICY } from "../contentSecurityPolicy.ts";
import { maybeFileInside, maybeRealpath } from "../safePath.ts";
import { sendStaticFile } from "../staticFile.ts";
import type { AccessControl } from "../auth/accessControl.ts";
import { canReadZone, isExplorerZone } from "../explorer/zones.ts";
import { principalOf } from "./authenticate.ts";
import { canonicalPathOf } from "./canonicalPath.ts";

/**
 * `GET|HEAD /lake/<zone>/<dataset>/...`: files of the zones the explorer serves (curated, and
 * staging for readers with `readOps`: see explorer/zones.ts), with range requests for
 * DuckDB-WASM. Every other zone, a zone the reader may not read, and every internal name
 * (`_versions/`, `.tmp-*`, ...) is a 404,
 * the same answer as a missing file, so the lake's layout cannot be probed. No CORS header: the
 * explorer is same-origin. `no-cache` because a dataset's current files change between versions;
 * the ETag keeps revalidation to a 304.
 */
export function lakeFiles(config: Config, access?: AccessControl) {
  return async function lakeFiles(req: Request, res: Response): Promise<void> {
    const [, zone, ...names] = canonicalPathOf(res).segments;
    if (!isExplorerZone(zone) || names.length < 2 || names.some(isInternalName)) throw notFound();
    // Without access control (the local preview) every served zone is readable.
    if (access && !(await canReadZone(access, principalOf(res), zone))) throw notFound();
    // Resolved per request: the zone folder may be created after the server started.
    const root = await maybeRealpath(join(config.lakeDir, zone));
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
  return new HttpError(404, "not found: the lake serves the files of readable datasets only");
}
