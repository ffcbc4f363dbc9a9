/**
 * Starts each page's data requests with the HTML instead of after its modules: a built page gets
 * `<link rel="preload">` tags for what it will fetch first, so the browser requests the data
 * while it is still loading Framework's runtime and the page's modules (otherwise a
 * FileAttachment is requested only once the cell that reads it runs).
 *
 * - Every file the page registers (Framework writes `registerFile(name, {path, size, ...})` into
 *   the page for each FileAttachment it references) up to PRELOAD_MAX_BYTES: data files as
 *   `as="fetch" crossorigin` (what FileAttachment's `fetch` asks for, so the browser reuses the
 *   preloaded response), JavaScript modules (a bundle imported by URL) as `modulepreload`.
 * - Same-origin URLs a page lists in its front matter, e.g. an API it calls first:
 *   `preload: [/api/explorer/datasets]`, as `as="fetch" crossorigin` (credentials: same-origin).
 *
 * Larger files are left alone: a page may reference a big file only as a download.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { BuildError } from "../errors.ts";
import { markdownPages } from "./pageAccess.ts";

/** Files above this size are not preloaded. */
export const PRELOAD_MAX_BYTES = 8 * 1024 * 1024;

const REGISTER_FILE = /registerFile\(\s*("(?:[^"\\]|\\.)*")\s*,\s*(\{[^}]*\})\s*\)/g;

/** Adds the preload tags to every page of `buildDir` built from `notebooksDir`; returns how many. */
export async function addPreloads(notebooksDir: string, buildDir: string): Promise<number> {
  let added = 0;
  for (const file of await markdownPages(notebooksDir)) {
    const source = relative(notebooksDir, file).split(sep).join("/");
    const htmlPath = join(buildDir, `${source.slice(0, -".md".length)}.html`);
    const html = await readFile(htmlPath, "utf8").catch(() => undefined);
    if (html === undefined) continue;
    const tags = preloadTags(html, frontMatterPreloads(await readFile(file, "utf8"), source));
    if (tags.length === 0) continue;
    await writeFile(htmlPath, insertIntoHead(html, tags.join("\n")));
    added += tags.length;
  }
  return added;
}

/** The `<link>` tags for a built page's registered files and the extra `urls`. */
export function preloadTags(html: string, urls: readonly string[] = []): string[] {
  const tags = urls.map(
    (url) => `<link rel="preload" as="fetch" crossorigin href="${escapeAttribute(url)}">`,
  );
  for (const match of html.matchAll(REGISTER_FILE)) {
    let info: { path?: unknown; size?: unknown };
    try {
      info = JSON.parse(match[2]!) as typeof info;
    } catch {
      continue; // not the JSON Framework writes: nothing to preload safely
    }
    if (typeof info.path !== "string" || (typeof info.size === "number" && info.size > PRELOAD_MAX_BYTES))
      continue;
    const href = escapeAttribute(info.path);
    tags.push(
      /\.m?js$/.test(info.path)
        ? `<link rel="modulepreload" href="${href}">`
        : `<link rel="preload" as="fetch" crossorigin href="${href}">`,
    );
  }
  return [...new Set(tags)];
}

/** The `preload` list of a page's front matter (same-origin absolute paths only). */
export function frontMatterPreloads(markdown: string, source: string): string[] {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(markdown);
  if (!match) return [];
  const front = parseYaml(match[1]!) as { preload?: unknown } | null;
  const preload = front?.preload;
  if (preload === undefined) return [];
  const urls = typeof preload === "string" ? [preload] : preload;
  if (!Array.isArray(urls) || !urls.every((url) => typeof url === "string" && /^\/(?!\/)/.test(url))) {
    throw new BuildError(
      `${source}: front matter 'preload' must list paths on this site starting with '/', e.g. preload: [/api/explorer/datasets]`,
    );
  }
  return urls as string[];
}

/** Right after the title (before the stylesheets and module preloads), else at the end of head. */
function insertIntoHead(html: string, tags: string): string {
  const title = html.indexOf("</title>");
  if (title >= 0) return `${html.slice(0, title + 8)}\n${tags}${html.slice(title + 8)}`;
  const head = html.indexOf("</head>");
  return head >= 0 ? `${html.slice(0, head)}${tags}\n${html.slice(head)}` : html;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
