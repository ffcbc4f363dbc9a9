/**
 * `GET|HEAD /<page>.pdf`: the page as a PDF snapshot of the live build (`/index.pdf` for `/`,
 * `/dir/index.pdf` for `/dir/`). A file of that name in the build wins; a name with no page
 * behind it falls through to the site's 404.
 *
 * Access is the page's own: the check runs on the page's path with the build's page rules, so a
 * reader who may not read `/finance` gets the page's 401 (or sign-in redirect) or 403 for
 * `/finance.pdf`, never the PDF. A snapshot is rendered once per build, page and kind of reader
 * (role and groups: what the page shows depends on nothing else) as a synthetic reader of that
 * kind (renderTickets.ts), cached on disk (pdfCache.ts) and sent as `private`. `X-Lakebook-Pdf`
 * says whether this request rendered it or found it cached.
 */
import type { NextFunction, Request, Response } from "express";
import { basename } from "node:path";
import { Counter, type Registry } from "prom-client";
import { HttpError } from "../../src/errors.ts";
import type { AccessControl, Principal } from "../auth/accessControl.ts";
import { readRefusal } from "../auth/refusalReason.ts";
import { principalOf } from "../middlewares/authenticate.ts";
import { canonicalPathOf } from "../middlewares/canonicalPath.ts";
import type { PublishedSite } from "../middlewares/siteFiles.ts";
import { maybeFileInside } from "../safePath.ts";
import type { PdfCache } from "./pdfCache.ts";
import type { PdfRenderer } from "./pdfRenderer.ts";
import { RENDER_HEADER, type RenderTickets } from "./renderTickets.ts";

const PUBLISHED_BUILD = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;
/** The name the synthetic reader of a render goes by (its account line is not printed). */
const RENDERER_NAME = "lakebook-pdf";

export interface PagePdfDeps {
  readonly site: PublishedSite;
  readonly access: AccessControl;
  readonly renderer: PdfRenderer;
  readonly cache: PdfCache;
  readonly tickets: RenderTickets;
  readonly registry?: Registry;
}

/** The address of a page's PDF snapshot: `/` -> `/index.pdf`, `/a/` -> `/a/index.pdf`, `/a/b` -> `/a/b.pdf`. */
export function pdfPathOf(pagePath: string): string {
  const segments = pagePath.split("/").slice(1);
  if (segments.at(-1) === "") segments[segments.length - 1] = "index";
  return "/" + segments.map(encodeURIComponent).join("/") + ".pdf";
}

export function pagePdfs({ site, access, renderer, cache, tickets, registry }: PagePdfDeps) {
  const snapshots = new Counter({
    name: "lakebook_pdf_snapshots_total",
    help: "PDF snapshot requests by outcome (rendered, cached, failed)",
    labelNames: ["outcome"] as const,
    registers: registry ? [registry] : [],
  });
  return async function pagePdfs(req: Request, res: Response, next: NextFunction): Promise<void> {
    const { segments } = canonicalPathOf(res);
    const last = segments.at(-1) ?? "";
    const first = segments[0] ?? "";
    if (!last.endsWith(".pdf") || last === ".pdf" || first.startsWith("_") || first === "lake") return next();
    if (segments.some((name) => name.startsWith("."))) return next();
    const build = await site.builds.current();
    if ((await maybeFileInside(build, segments)) !== undefined) return next();
    const dirs = segments.slice(0, -1);
    const name = last.slice(0, -".pdf".length);
    if ((await maybeFileInside(build, [...dirs, `${name}.html`])) === undefined) return next();
    const pagePath = "/" + [...dirs, name === "index" ? "" : name].join("/");

    const principal = principalOf(res);
    const rules = await site.currentPageRules();
    if (!(await access.canReadPath(principal, pagePath, rules))) {
      if (!principal.user && req.method === "GET" && (req.get("accept") ?? "").includes("text/html")) {
        res.setHeader("Cache-Control", "no-store");
        res.redirect(302, `/auth/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      throw await readRefusal(access, principal, pagePath, rules);
    }
    if (!PUBLISHED_BUILD.test(basename(build))) {
      throw new HttpError(404, "PDF snapshots are made of published builds: publish with `lakebook build`");
    }

    const user = principal.user;
    const view = user ? `${user.role}:${[...user.groups].sort().join(",")}` : "anonymous";
    let snapshot;
    try {
      snapshot = await cache.get(build, pagePath, view, async () => {
        const reader: Principal | undefined = user && { user: { ...user, name: RENDERER_NAME } };
        const ticket = reader && tickets.issue(reader);
        try {
          return await renderer.render({
            url: originOf(req) + pagePath.split("/").map(encodeURIComponent).join("/"),
            headers: ticket ? { [RENDER_HEADER]: ticket.token } : {},
          });
        } finally {
          ticket?.revoke();
        }
      });
    } catch (error) {
      snapshots.inc({ outcome: "failed" });
      res.setHeader("Retry-After", "30");
      if (error instanceof HttpError) {
        throw new HttpError(error.status, `${error.message} (the page itself is at ${pagePath})`, {
          cause: error,
        });
      }
      throw error;
    }
    snapshots.inc({ outcome: snapshot.rendered ? "rendered" : "cached" });
    res.setHeader("X-Lakebook-Pdf", snapshot.rendered ? "rendered" : "cached");
    res.setHeader("Cache-Control", "private, no-cache");
    res.setHeader("ETag", snapshot.etag);
    // Chromium's PDF viewer does not open a document under the sandboxing no-content policy.
    res.removeHeader("Content-Security-Policy");
    const ifNoneMatch = req.headers["if-none-match"];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(",").some((tag) => tag.trim() === snapshot.etag)) {
      res.status(304).end();
      return;
    }
    const fileName = `${name}.pdf`;
    res.setHeader(
      "Content-Disposition",
      `inline; filename="${fileName.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
    );
    res.type("application/pdf").send(snapshot.bytes);
  };
}

/** This server as the machine itself reaches it: the address and port the request came in on. */
function originOf(req: Request): string {
  const address = (req.socket.localAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  const host = address.includes(":") ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort}`;
}
