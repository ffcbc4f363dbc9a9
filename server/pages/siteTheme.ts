/**
 * `/auth/site.css`: the published site's own stylesheets (Framework's theme, light and dark, and
 * the project's global stylesheet with its inlined fonts), concatenated for the server's pages
 * (sign-in, runs, errors, API docs) so they look like the notebooks. Served under `/auth` because
 * the sign-in page needs it before anyone is signed in: it holds only styles, never data.
 *
 * The stylesheets are the ones the live build's home page links (`<link rel="stylesheet">` under
 * `_observablehq/` or `_import/`), read once per build. Without a build it is empty and the
 * pages fall back to their own colors.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Request, Response } from "express";
import { maybeFileInside } from "../safePath.ts";
import type { PublishedSite } from "../middlewares/siteFiles.ts";

const STYLESHEET =
  /<link rel="stylesheet" type="text\/css" href="\.\/((?:_observablehq|_import)\/[^"?#]+\.css)">/g;

export function siteTheme(site: PublishedSite) {
  let cached: { build: string; css: Buffer; etag: string } | undefined;
  const load = async (): Promise<{ css: Buffer; etag: string }> => {
    let build: string;
    try {
      build = await site.builds.current();
    } catch {
      return { css: Buffer.alloc(0), etag: '"empty"' };
    }
    if (cached?.build === build) return cached;
    const index = await maybeFileInside(build, ["index.html"]);
    const html = index ? await readFile(index, "utf8") : "";
    const parts: Buffer[] = [];
    for (const match of html.matchAll(STYLESHEET)) {
      const file = await maybeFileInside(build, match[1]!.split("/").map(decodeURIComponent));
      if (file) parts.push(await readFile(file), Buffer.from("\n"));
    }
    const css = Buffer.concat(parts);
    cached = { build, css, etag: `"${createHash("sha256").update(css).digest("hex").slice(0, 16)}"` };
    return cached;
  };
  return async function siteThemeStylesheet(req: Request, res: Response): Promise<void> {
    const { css, etag } = await load();
    res.setHeader("Content-Type", "text/css; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("ETag", etag);
    if (req.get("if-none-match") === etag) {
      res.status(304).end();
      return;
    }
    res.send(css);
  };
}
