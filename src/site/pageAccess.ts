/**
 * Per-notebook access from front matter:
 *
 *     ---
 *     title: Margins
 *     access: [finance]
 *     ---
 *
 * At build time each page's `access` groups become rules of that build, written to
 * `<build>/.lakebook/access.json` (never served: the server refuses names starting with a dot).
 * They travel with the build, so a rollback also restores the rules its pages were built with.
 * A rule covers the page itself and the files it attaches (`/_file/...`, `/_import/...`, as the
 * built page references them), unless an unrestricted page attaches the same file: then the file
 * is public through that page anyway. A file attached by several restricted pages is readable by
 * the members of any of their groups. Admins read everything; folder rules (`lakebook publish
 * access`) apply on top.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { BuildError } from "../errors.ts";
import { isGroupName } from "../store/store.ts";

export const PAGE_ACCESS_FILE = join(".lakebook", "access.json");

/** Readers of `path` (as the server matches it: a page's clean URL, a file's site path) need a group. */
export interface PageAccessRule {
  readonly path: string;
  readonly groups: readonly string[];
}

/** A page's references to its attachments, as Framework writes them (`./_file/...`, `../_import/...`). */
const ATTACHMENT = /["'(](?:\.\.?\/)*(_file|_import)\/([^"'?#)\s]+)/g;

/**
 * The rules of a build: reads the front matter of the notebooks in `notebooksDir` and the pages
 * Framework built from them in `buildDir`, and writes the rules to `buildDir/.lakebook/`.
 */
export async function writePageAccess(notebooksDir: string, buildDir: string): Promise<PageAccessRule[]> {
  const restricted = new Map<string, readonly string[]>();
  /** Attachment path -> the groups of the restricted pages attaching it, or null once public. */
  const attachments = new Map<string, Set<string> | null>();
  for (const file of await markdownPages(notebooksDir)) {
    const source = relative(notebooksDir, file).split(sep).join("/");
    const groups = accessOf(await readFile(file, "utf8"), source);
    // A template (`ticker/[ticker].md`) is built once per entity; its rule covers each of them.
    for (const page of await builtPages(buildDir, source.slice(0, -".md".length))) {
      const html = await readFile(join(buildDir, `${page}.html`), "utf8").catch(() => undefined);
      if (html === undefined) continue; // not built as a page (e.g. a partial Framework skipped)
      if (groups) restricted.set(pagePath(page), groups);
      for (const match of html.matchAll(ATTACHMENT)) {
        const path = `/${match[1]}/${decodeURIComponent(match[2]!)}`;
        const known = attachments.get(path);
        if (known === null) continue;
        if (!groups) attachments.set(path, null);
        else attachments.set(path, new Set([...(known ?? []), ...groups]));
      }
    }
  }
  const rules: PageAccessRule[] = [...restricted].map(([path, groups]) => ({ path, groups }));
  for (const [path, groups] of attachments) {
    if (groups) rules.push({ path, groups: [...groups].sort() });
  }
  rules.sort((a, b) => a.path.localeCompare(b.path));
  await mkdir(join(buildDir, ".lakebook"), { recursive: true });
  await writeFile(join(buildDir, PAGE_ACCESS_FILE), JSON.stringify(rules, null, 2) + "\n");
  return rules;
}

/** The rules a build was published with; none for a build without the file (made before them). */
export async function readPageAccess(buildDir: string): Promise<PageAccessRule[]> {
  let text: string;
  try {
    text = await readFile(join(buildDir, PAGE_ACCESS_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (
    !Array.isArray(parsed) ||
    !parsed.every(
      (rule: { path?: unknown; groups?: unknown }) =>
        typeof rule?.path === "string" &&
        Array.isArray(rule.groups) &&
        rule.groups.every((group) => typeof group === "string"),
    )
  ) {
    throw new Error(`${PAGE_ACCESS_FILE} of ${buildDir} is damaged: run \`lakebook build\` again`);
  }
  return parsed as PageAccessRule[];
}

/** The built pages of a source page: itself, or for a template every page matching its pattern. */
async function builtPages(buildDir: string, page: string): Promise<string[]> {
  if (!page.includes("[")) return [page];
  const pattern = new RegExp(
    `^${page
      .split(/(\[[A-Za-z0-9_]+\])/)
      .map((part, i) => (i % 2 === 1 ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("")}\\.html$`,
  );
  const entries = await readdir(buildDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(buildDir, join(e.parentPath, e.name)).split(sep).join("/"))
    .filter((path) => pattern.test(path))
    .map((path) => path.slice(0, -".html".length));
}

/** The page's clean URL path: `index` -> `/`, `dir/index` -> `/dir/`, `dir/page` -> `/dir/page`. */
function pagePath(page: string): string {
  if (page === "index") return "/";
  if (page.endsWith("/index")) return `/${page.slice(0, -"index".length)}`;
  return `/${page}`;
}

/** The `access` groups of a page's front matter, or undefined when it sets none. */
export function accessOf(markdown: string, source: string): readonly string[] | undefined {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(markdown);
  if (!match) return undefined;
  let front: unknown;
  try {
    front = parseYaml(match[1]!);
  } catch (error) {
    throw new BuildError(`${source}: its front matter is not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof front !== "object" || front === null || !("access" in front)) return undefined;
  const access = (front as { access: unknown }).access;
  const groups = typeof access === "string" ? [access] : access;
  if (
    !Array.isArray(groups) ||
    groups.length === 0 ||
    !groups.every((group) => typeof group === "string" && isGroupName(group))
  ) {
    throw new BuildError(
      `${source}: front matter 'access' must name one or more groups (letters, digits, _ and -), e.g. access: [finance]`,
    );
  }
  return groups as string[];
}

/** Markdown pages under `dir`, skipping what Framework does not build (dot and underscore names). */
async function markdownPages(dir: string): Promise<string[]> {
  const pages: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name.startsWith("_") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) pages.push(...(await markdownPages(path)));
    else if (entry.isFile() && entry.name.endsWith(".md")) pages.push(path);
  }
  return pages;
}
