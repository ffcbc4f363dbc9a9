/**
 * Finds load-time references to other origins in a built site: anything a browser would request
 * from `http(s)://…` or `//…` just by opening a page. Only request-making positions count, so a
 * plain `<a href>` link, a licence comment or an error message that mentions a URL is not a
 * finding, while `<script src>`, `<link rel=stylesheet|preload|preconnect>`, `import "https://…"`,
 * `import.meta.resolve`, `fetch("https://…")`, `new Worker(…)`, `importScripts(…)`, `x.src = …`
 * and CSS `url(…)` / `@import` are.
 *
 * JavaScript is parsed (acorn), not grepped: bundles carry URL strings in comments and messages
 * that are never requested. A URL built at run time from variables cannot be seen statically; the
 * offline build (no network at build time) and the browser check in the tests cover those.
 */
import { readFile, readdir } from "node:fs/promises";
import { extname, join, relative } from "node:path";
import { parse as parseJs, type Node as AcornNode } from "acorn";
import { simple } from "acorn-walk";
import { parse as parseHtml } from "parse5";

/** One request a page would make to another origin. */
export interface OffOriginReference {
  /** Path of the file inside the scanned folder, with forward slashes. */
  readonly file: string;
  /** The URL (a template's static prefix followed by `…`). */
  readonly url: string;
  /** What makes the request, e.g. `<script src>`, `import`, `fetch()`, `css url()`. */
  readonly via: string;
}

const OFF_ORIGIN = /^\s*(?:https?:)?\/\//i;

/** `<link rel>` values that are metadata, not fetches. */
const NON_FETCHING_LINK_RELS = new Set([
  "alternate",
  "author",
  "bookmark",
  "canonical",
  "external",
  "help",
  "license",
  "me",
  "next",
  "nofollow",
  "noopener",
  "noreferrer",
  "opener",
  "prev",
  "search",
  "tag",
]);

/** Element attributes that the browser fetches on load. */
const FETCHING_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  script: ["src"],
  img: ["src", "srcset"],
  iframe: ["src"],
  frame: ["src"],
  audio: ["src"],
  video: ["src", "poster"],
  source: ["src", "srcset"],
  track: ["src"],
  embed: ["src"],
  input: ["src"],
  object: ["data"],
  image: ["href", "xlink:href"],
  use: ["href", "xlink:href"],
  body: ["background"],
};

/** Scans every .html, .js, .mjs and .css file under `dir`. */
export async function findOffOriginReferences(dir: string): Promise<OffOriginReference[]> {
  const found: OffOriginReference[] = [];
  for (const path of await listFiles(dir)) {
    const ext = extname(path).toLowerCase();
    const file = relative(dir, path).split("\\").join("/");
    if (ext === ".html" || ext === ".htm") found.push(...scanHtml(file, await readFile(path, "utf-8")));
    else if (ext === ".js" || ext === ".mjs")
      found.push(...scanJavaScript(file, await readFile(path, "utf-8")));
    else if (ext === ".css") found.push(...scanCss(file, await readFile(path, "utf-8")));
  }
  return found;
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

interface HtmlNode {
  nodeName: string;
  tagName?: string;
  attrs?: { name: string; value: string }[];
  childNodes?: HtmlNode[];
  content?: HtmlNode;
  value?: string;
}

/** Request-making URLs in an HTML document, including inline scripts and styles. */
export function scanHtml(file: string, html: string): OffOriginReference[] {
  const found: OffOriginReference[] = [];
  const visit = (node: HtmlNode): void => {
    const tag = node.tagName?.toLowerCase();
    if (tag && node.attrs) {
      const attr = (name: string) => node.attrs?.find((a) => a.name.toLowerCase() === name)?.value;
      for (const name of FETCHING_ATTRIBUTES[tag] ?? []) {
        const value = attr(name);
        if (value === undefined) continue;
        for (const url of name.endsWith("srcset") ? parseSrcset(value) : [value]) {
          if (OFF_ORIGIN.test(url)) found.push({ file, url: url.trim(), via: `<${tag} ${name}>` });
        }
      }
      if (tag === "link") {
        const href = attr("href");
        const rels = (attr("rel") ?? "").toLowerCase().split(/\s+/).filter(Boolean);
        const fetches = rels.length === 0 || rels.some((r) => !NON_FETCHING_LINK_RELS.has(r));
        if (href !== undefined && fetches && OFF_ORIGIN.test(href)) {
          found.push({ file, url: href.trim(), via: `<link rel="${rels.join(" ")}">` });
        }
      }
      const style = attr("style");
      if (style) found.push(...scanCss(file, style));
      if (tag === "script" && attr("src") === undefined && isJavaScriptType(attr("type"))) {
        found.push(...scanJavaScript(file, textOf(node), "inline <script>"));
      }
      if (tag === "style") found.push(...scanCss(file, textOf(node)));
    }
    for (const child of node.childNodes ?? []) visit(child);
    if (node.content) visit(node.content);
  };
  visit(parseHtml(html) as unknown as HtmlNode);
  return found;
}

function textOf(node: HtmlNode): string {
  return (node.childNodes ?? []).map((c) => c.value ?? "").join("");
}

function isJavaScriptType(type: string | undefined): boolean {
  if (type === undefined || type.trim() === "") return true;
  return /^(module|text\/javascript|application\/javascript)$/i.test(type.trim());
}

function parseSrcset(value: string): string[] {
  return value
    .split(",")
    .map((candidate) => candidate.trim().split(/\s+/)[0] ?? "")
    .filter(Boolean);
}

/** Request-making URLs in CSS: `@import` and `url(…)`; comments and data: URLs are ignored. */
export function scanCss(file: string, css: string): OffOriginReference[] {
  const found: OffOriginReference[] = [];
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  for (const m of text.matchAll(/@import\s+(?:url\(\s*)?(["']?)([^"')\s;]+)\1/gi)) {
    const url = m[2] ?? "";
    if (OFF_ORIGIN.test(url)) found.push({ file, url, via: "css @import" });
  }
  for (const m of text.matchAll(/url\(\s*(["']?)([^"')]*)\1\s*\)/gi)) {
    const url = m[2] ?? "";
    if (OFF_ORIGIN.test(url) && !found.some((f) => f.url === url))
      found.push({ file, url, via: "css url()" });
  }
  return found;
}

type Literalish = AcornNode & {
  type: string;
  value?: unknown;
  quasis?: { value: { cooked?: string | null; raw: string } }[];
};
type CallLike = AcornNode & { callee: AcornNode & Record<string, unknown>; arguments: Literalish[] };

/** The URL a string literal or template literal starts with, when it is off-origin. */
function offOriginUrl(node: Literalish | undefined | null): string | undefined {
  if (!node) return undefined;
  if (node.type === "Literal" && typeof node.value === "string") {
    return OFF_ORIGIN.test(node.value) ? node.value : undefined;
  }
  if (node.type === "TemplateLiteral" && node.quasis?.[0]) {
    const head = node.quasis[0].value.cooked ?? node.quasis[0].value.raw;
    if (!OFF_ORIGIN.test(head)) return undefined;
    return node.quasis.length > 1 ? `${head}…` : head;
  }
  return undefined;
}

const FETCH_FUNCTIONS = new Set(["fetch", "importScripts", "sendBeacon"]);
const FETCH_CONSTRUCTORS = new Set(["Worker", "SharedWorker", "EventSource", "WebSocket", "Audio"]);

/** Request-making URLs in a JavaScript module or classic script. */
export function scanJavaScript(file: string, source: string, where?: string): OffOriginReference[] {
  let program: AcornNode;
  try {
    program = parseJs(source, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  } catch {
    try {
      program = parseJs(source, { ecmaVersion: "latest", sourceType: "script", allowHashBang: true });
    } catch (error) {
      // Not JavaScript we can read, so we cannot vouch for it: report it rather than pass it.
      return [{ file, url: "(unparsable)", via: `JavaScript parse error: ${(error as Error).message}` }];
    }
  }
  const found: OffOriginReference[] = [];
  const add = (node: Literalish | undefined | null, via: string) => {
    const url = offOriginUrl(node);
    if (url) found.push({ file, url, via: where ? `${via} in ${where}` : via });
  };
  const importSource = (node: AcornNode) =>
    add((node as unknown as { source?: Literalish }).source, "import");
  simple(program, {
    ImportDeclaration: importSource,
    ExportAllDeclaration: importSource,
    ExportNamedDeclaration: importSource,
    ImportExpression: (node) => add((node as unknown as { source: Literalish }).source, "import()"),
    CallExpression(node) {
      const { callee, arguments: args } = node as unknown as CallLike;
      const name = calleeName(callee);
      if (name === undefined) return;
      if (name === "resolve" && isImportMeta(callee)) add(args[0], "import.meta.resolve()");
      else if (name === "importScripts") for (const arg of args) add(arg, "importScripts()");
      else if (FETCH_FUNCTIONS.has(name)) add(args[0], `${name}()`);
      else if (name === "open" && callee.type === "MemberExpression") add(args[1], "XMLHttpRequest.open()");
      else if (name === "setAttribute" && isSrcAttribute(args[0])) add(args[1], "setAttribute()");
    },
    NewExpression(node) {
      const { callee, arguments: args } = node as unknown as CallLike;
      const name = calleeName(callee);
      if (name !== undefined && FETCH_CONSTRUCTORS.has(name)) add(args[0], `new ${name}()`);
    },
    AssignmentExpression(node) {
      const { left, right } = node as unknown as {
        left: AcornNode & Record<string, unknown>;
        right: Literalish;
      };
      if (left.type === "MemberExpression" && propertyName(left) === "src") add(right, ".src =");
    },
  });
  return found;
}

function calleeName(callee: AcornNode & Record<string, unknown>): string | undefined {
  if (callee.type === "Identifier") return callee.name as string;
  if (callee.type === "MemberExpression") return propertyName(callee);
  return undefined;
}

function propertyName(member: Record<string, unknown>): string | undefined {
  const property = member.property as { type: string; name?: string; value?: unknown } | undefined;
  if (!property) return undefined;
  if (property.type === "Identifier" && !member.computed) return property.name;
  if (property.type === "Literal" && typeof property.value === "string") return property.value;
  return undefined;
}

function isImportMeta(callee: Record<string, unknown>): boolean {
  const object = callee.object as { type?: string } | undefined;
  return object?.type === "MetaProperty";
}

function isSrcAttribute(node: Literalish | undefined): boolean {
  return (
    node?.type === "Literal" && typeof node.value === "string" && /^(src|srcset|data)$/i.test(node.value)
  );
}
