import { readlinkSync, realpathSync, watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Request, Response } from "express";
import type { Config } from "../../src/config.ts";
import { HttpError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { createPagePolicyCache } from "../contentSecurityPolicy.ts";
import { isInside, maybeFileInside, maybeRealpath } from "../safePath.ts";
import { canonicalPathOf } from "./canonicalPath.ts";
import { sendStaticFile } from "../staticFile.ts";
import type { BuildStamps } from "../buildStamp.ts";
import { readPageAccess, type PageAccessRule } from "../../src/site/pageAccess.ts";
import { createPageCache, sendCachedPage, type PageCache } from "../pageCache.ts";

/** Framework's content-hashed output folders: a file there never changes under its name. */
const HASHED_FOLDERS = new Set(["_npm", "_observablehq", "_file", "_import", "_duckdb"]);
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

/**
 * What the site's two request paths share: the Express middleware below and the fast path in
 * fastPages.ts answer from the same page cache, policies, build resolver and stamps.
 */
export interface PublishedSite {
  readonly pages: PageCache;
  readonly pagePolicy: (content: Buffer, realPath: string, etag: string) => string;
  readonly builds: BuildResolver;
  readonly stamps: BuildStamps | undefined;
  /** The access rules the live build's pages were published with (their front matter). */
  currentPageRules(): Promise<readonly PageAccessRule[]>;
  /** A build's page rules when already read (they never change for a build); else undefined. */
  pageRulesNow(build: string): readonly PageAccessRule[] | undefined;
  /** Stops watching the site folder. */
  close(): void;
}

export function createPublishedSite(
  config: Config,
  logger: Logger,
  stamps: BuildStamps | undefined,
  staticSite?: string,
): PublishedSite {
  const builds =
    staticSite === undefined ? createBuildResolver(config.siteDir, logger) : createFolderResolver(staticSite);
  // One build's rules at a time: a build folder never changes once published.
  let rules: { build: string; rules: readonly PageAccessRule[] } | undefined;
  return {
    pages: createPageCache(),
    pagePolicy: createPagePolicyCache(),
    builds,
    stamps,
    async currentPageRules() {
      let build: string;
      try {
        build = await builds.current();
      } catch {
        return []; // no valid build: the site answers 503 before any file is read
      }
      if (rules?.build === build) return rules.rules;
      try {
        rules = { build, rules: await readPageAccess(build) };
      } catch (error) {
        logger.error({ err: error, build }, "the build's page access rules cannot be read");
        throw new HttpError(503, "the published site is invalid: run `lakebook build` to publish it again");
      }
      return rules.rules;
    },
    pageRulesNow(build) {
      return rules?.build === build ? rules.rules : undefined;
    },
    close: () => builds.close(),
  };
}

/**
 * The published site: `siteDir/current`, a symlink the build swaps atomically to
 * `siteDir/builds/<id>`. It is resolved on every request, so a new build is live on the next
 * request while responses already streaming keep reading the old build's open files.
 *
 * Clean URLs, as Framework links them: `/explorer` serves `explorer.html`, `/dir/` serves
 * `dir/index.html`. The `.html` spellings redirect (301) to the clean URL so each page has one
 * address; `/dir` redirects to `/dir/` when only `dir/index.html` exists (its relative links need
 * the slash). Inside the hashed folders paths are served exactly as written.
 */
export function siteFiles(site: PublishedSite) {
  const { pages, pagePolicy, builds, stamps } = site;
  const headersFromContent = (content: Buffer, realPath: string, etag: string) => ({
    "Content-Security-Policy": pagePolicy(content, realPath, etag),
  });

  return async function siteFiles(req: Request, res: Response): Promise<void> {
    const { segments } = canonicalPathOf(res);
    const build = await builds.current();
    const cacheable = pages.usable(req, build);
    const key = segments.join("/");
    const hit = cacheable ? pages.get(build, key) : undefined;
    if (hit) {
      sendCachedPage(req, res, hit, await stamps?.of(build));
      return;
    }
    const found = segments.some((name) => name.startsWith(".")) ? undefined : await lookup(build, segments);
    if (cacheable && found?.kind === "file" && found.path.endsWith(".html")) {
      const page = await pages.load(build, key, found.path, pagePolicy);
      sendCachedPage(req, res, page, await stamps?.of(build));
      return;
    }

    if (found?.kind === "redirect") {
      const query = req.originalUrl.indexOf("?");
      res.redirect(301, found.location + (query === -1 ? "" : req.originalUrl.slice(query)));
      return;
    }
    if (found?.kind === "file") {
      const isHtml = found.path.endsWith(".html");
      const immutable = !isHtml && HASHED_FOLDERS.has(segments[0] ?? "") && segments.length > 1;
      await sendStaticFile(req, res, found.path, {
        cacheControl: immutable ? IMMUTABLE : REVALIDATE,
        ...(isHtml && { headersFromContent }),
        ...(isHtml && stamps && { transform: await stamps.of(build) }),
      });
      return;
    }
    if (key === "favicon.ico") {
      // Browsers ask for it on every site; a build without one (Framework makes none) answers
      // "no icon" rather than a 404 that each reader's console reports as an error.
      res.setHeader("Cache-Control", "public, max-age=3600");
      res.status(204).end();
      return;
    }
    const notFoundPage = await maybeFileInside(build, ["404.html"]);
    if (notFoundPage === undefined) throw new HttpError(404, "page not found");
    await sendStaticFile(req, res, notFoundPage, {
      cacheControl: REVALIDATE,
      status: 404,
      headersFromContent,
    });
  };
}

type Lookup = { kind: "file"; path: string } | { kind: "redirect"; location: string } | undefined;

async function lookup(build: string, segments: readonly string[]): Promise<Lookup> {
  const dirs = segments.slice(0, -1);
  const last = segments.at(-1) ?? "";
  if (HASHED_FOLDERS.has(segments[0] ?? "")) return asFile(await maybeFileInside(build, segments));
  if (last === "") return asFile(await maybeFileInside(build, [...dirs, "index.html"]));
  if (last.endsWith(".html")) {
    // Only redirect to a page that exists, so a typo is a 404 at the address typed.
    if ((await maybeFileInside(build, segments)) === undefined) return undefined;
    const clean = last === "index.html" ? "" : last.slice(0, -".html".length);
    return { kind: "redirect", location: toUrlPath([...dirs, clean]) };
  }
  const exact = await maybeFileInside(build, segments);
  if (exact !== undefined) return asFile(exact);
  const page = await maybeFileInside(build, [...dirs, `${last}.html`]);
  if (page !== undefined) return asFile(page);
  if ((await maybeFileInside(build, [...segments, "index.html"])) !== undefined) {
    return { kind: "redirect", location: toUrlPath([...segments, ""]) };
  }
  return undefined;
}

function asFile(path: string | undefined): Lookup {
  return path === undefined ? undefined : { kind: "file", path };
}

function toUrlPath(segments: readonly string[]): string {
  return "/" + segments.map(encodeURIComponent).join("/");
}

/**
 * Resolving `current` is one libc realpath on a local folder, microseconds; done synchronously it
 * skips a thread-pool round trip that, under load, costs more than the whole rest of a page view.
 */
function realpathNow(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/** The text of a symlink, or undefined when `path` is not one. One system call. */
function readlinkNow(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export interface BuildResolver {
  /**
   * The real path of the live build. 503 before the first build; also 503 (and an error in the
   * log) when `current` does not resolve to a folder inside `siteDir/builds`, which only a broken
   * or tampered publish can cause: nothing outside the builds is ever served. `current` is
   * resolved on every call; a build folder once checked is not checked again.
   */
  current(): Promise<string>;
  /**
   * The live build, without checks, when `current` is still the symlink `current()` last
   * checked; else undefined. For answers from memory only (fastPages.ts): they read nothing
   * under the folder. Publishing swaps the symlink by a rename in `siteDir`, which a watch on
   * `siteDir` reports within milliseconds; until then the previous build is answered, as it is
   * for requests already in flight. Where the file system cannot be watched, each call compares
   * the symlink's text instead (one readlink).
   */
  currentNow(): string | undefined;
  close(): void;
}

/**
 * A plain folder as the live "build" (another Framework project's output): 503 until it exists.
 * Its name is no build id, so the page cache never holds its pages (pageCache.ts): every request
 * reads the file, and a rebuild is seen at once.
 */
function createFolderResolver(folder: string): BuildResolver {
  let known: string | undefined;
  return {
    currentNow: () => known,
    async current() {
      const real = realpathNow(folder);
      const isDirectory =
        real !== undefined &&
        (await stat(real).then(
          (s) => s.isDirectory(),
          () => false,
        ));
      if (!isDirectory) throw new HttpError(503, `nothing built yet in ${folder}: run \`lakebook build\``);
      known = real;
      return real;
    },
    close() {},
  };
}

function createBuildResolver(siteDir: string, logger: Logger): BuildResolver {
  const currentLink = join(siteDir, "current");
  let checked: { link: string | undefined; build: string } | undefined;
  let watcher: FSWatcher | undefined;
  /** Changes the watch reported in `siteDir`; bumped too when the watch starts or stops. */
  let changes = 0;
  /** `changes` when `checked.link` was last read from disk and found current. */
  let confirmedAt = -1;
  let closed = false;
  const watchSiteDir = (): void => {
    if (watcher || closed) return;
    try {
      watcher = watch(siteDir, { persistent: false }, () => changes++);
      changes++;
      watcher.on("error", () => {
        changes++;
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // siteDir missing (no build yet) or not watchable: readlink per call
    }
  };
  return {
    currentNow() {
      if (checked?.link === undefined) return undefined;
      if (watcher && confirmedAt === changes) return checked.build;
      if (readlinkNow(currentLink) !== checked.link) return undefined;
      // Read after every change the watch has reported so far: good until the next one.
      confirmedAt = changes;
      return checked.build;
    },
    async current() {
      watchSiteDir();
      // Changes reported while this call awaits must not be hidden by its result.
      const seen = changes;
      const link = readlinkNow(currentLink);
      const build = realpathNow(currentLink);
      if (build === undefined) throw new HttpError(503, "no site published yet: run `lakebook build`");
      if (build === checked?.build) {
        checked = { link, build };
        confirmedAt = seen;
        return build;
      }
      const buildsRoot = await maybeRealpath(join(siteDir, "builds"));
      const isDirectory = await stat(build).then(
        (stats) => stats.isDirectory(),
        () => false,
      );
      if (buildsRoot === undefined || build === buildsRoot || !isInside(buildsRoot, build) || !isDirectory) {
        logger.error({ siteDir }, "site 'current' does not resolve to a build folder inside siteDir/builds");
        throw new HttpError(503, "the published site is invalid: run `lakebook build` to publish it again");
      }
      checked = { link, build };
      confirmedAt = seen;
      return build;
    },
    close() {
      closed = true;
      watcher?.close();
      watcher = undefined;
      changes++;
    },
  };
}
