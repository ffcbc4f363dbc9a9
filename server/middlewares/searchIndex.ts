/**
 * The site's search index (`/_observablehq/minisearch.<hash>.json`) as one reader may see it:
 * without the pages that reader may not read (navigation.ts), so a restricted page's title and
 * words never reach a reader outside its group. The file sits in a content-hashed folder, but
 * its content depends on the reader here, so it is sent `private, no-cache` with an ETag naming
 * the reader's view instead of as immutable.
 */
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import type { Principal } from "../auth/accessControl.ts";
import { searchDocumentIds, searchDocumentPath, withoutHiddenDocuments } from "../navigation.ts";
import { sendStaticFile } from "../staticFile.ts";
import type { PublishedSite } from "./siteFiles.ts";

const SEARCH_INDEX = /^minisearch(\.[0-9a-f]+)?\.json$/;

/** Whether the canonical path's segments name Framework's search index. */
export function isSearchIndex(segments: readonly string[]): boolean {
  return segments.length === 2 && segments[0] === "_observablehq" && SEARCH_INDEX.test(segments[1] ?? "");
}

export async function sendSearchIndex(
  req: Request,
  res: Response,
  realPath: string,
  principal: Principal,
  site: PublishedSite,
): Promise<void> {
  const views = site.views;
  let hidden: string[] = [];
  if (views) {
    const rules = await site.currentPageRules();
    let ids: string[];
    try {
      ids = searchDocumentIds(await readFile(realPath, "utf8"));
    } catch {
      ids = []; // not an index this server understands: sent as it is
    }
    for (const id of ids) {
      if (!(await views.canRead(principal, searchDocumentPath(id), rules))) hidden.push(id);
    }
    hidden = hidden.sort();
  }
  const drop = new Set(hidden);
  await sendStaticFile(req, res, realPath, {
    cacheControl: "private, no-cache",
    contentType: "application/json; charset=utf-8",
    ...(drop.size > 0 && {
      transform: {
        tag: createHash("sha256").update(hidden.join("\n")).digest("hex").slice(0, 8),
        apply: (content: Buffer) =>
          Buffer.from(withoutHiddenDocuments(content.toString("utf8"), (id) => drop.has(id))),
      },
    }),
  });
}
