/**
 * Self-hosted fonts for Framework's themes. Every built-in theme (air, near-midnight, cotton,
 * dashboard, ...) shares Framework's global.css, whose only web font is Source Serif 4 (body
 * text, `--serif`); sans-serif and monospace text use system fonts. Framework's default
 * `globalStylesheets` loads that face from Google Fonts, which fails offline and sends every
 * reader to a third party. Lakebook instead writes `FONT_ENTRY` — the faces of the installed
 * `@fontsource/source-serif-4`, woff2 inlined as data URLs (Framework copies an npm stylesheet
 * but not the files its `url()`s name) — and uses it in place of the Google Fonts stylesheet.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BuildError } from "../errors.ts";
import { LAKEBOOK_ROOT } from "./localNpm.ts";

/** The generated stylesheet, relative to the Framework root (inside Framework's own cache). */
export const FONT_ENTRY = ".observablehq/cache/_lakebook/fonts.css";

/** Framework's default global stylesheet: Source Serif 4 from Google Fonts. */
export const GOOGLE_FONTS_PREFIX = "https://fonts.googleapis.com/css2?family=Source+Serif+4";

const FONT_PACKAGE = "@fontsource/source-serif-4";

/**
 * The faces the themes use (body 400, headings 700, UI 500/600, italics), Latin subset only:
 * each costs ~27 kB. Text outside Latin falls back to the theme's next serif font.
 */
const SOURCE_SERIF_FACES = [
  "latin-400.css",
  "latin-400-italic.css",
  "latin-500.css",
  "latin-600.css",
  "latin-700.css",
  "latin-700-italic.css",
];

/** Writes `<root>/FONT_ENTRY` when its content changed; returns its absolute path. */
export async function writeFontStylesheet(root: string): Promise<string> {
  const entry = join(root, FONT_ENTRY);
  const css = await inlineFontCss(join(LAKEBOOK_ROOT, "node_modules", FONT_PACKAGE));
  if ((await readFile(entry, "utf-8").catch(() => undefined)) === css) return entry;
  await mkdir(dirname(entry), { recursive: true });
  await writeFile(`${entry}.tmp`, css);
  await rename(`${entry}.tmp`, entry);
  return entry;
}

/**
 * The project's `globalStylesheets` with Google's Source Serif 4 replaced by the self-hosted one
 * (the default when the config names none). Other stylesheets are kept: an off-origin one fails
 * the build's off-origin check with instructions.
 */
export function selfHostedStylesheets(configured: unknown): string[] {
  const list =
    configured === undefined ? [GOOGLE_FONTS_PREFIX] : Array.isArray(configured) ? configured : [configured];
  return list.map((sheet) => {
    const href = String(sheet);
    return href.startsWith(GOOGLE_FONTS_PREFIX) ? `/${FONT_ENTRY}` : href;
  });
}

/** Concatenates the face stylesheets with their woff2 files inlined as data URLs. */
async function inlineFontCss(packageDir: string): Promise<string> {
  const parts: string[] = [];
  for (const face of SOURCE_SERIF_FACES) {
    const cssPath = join(packageDir, face);
    if (!existsSync(cssPath)) {
      throw new BuildError(
        `font package '${FONT_PACKAGE}' has no '${face}': reinstall Lakebook's dependencies`,
      );
    }
    const css = await readFile(cssPath, "utf-8");
    const srcPattern =
      /src:\s*url\((?:'|")?(\.\/files\/[^)'"]+\.woff2)(?:'|")?\)\s*format\(['"]woff2['"]\)[^;]*;/g;
    const files = Array.from(css.matchAll(srcPattern), (m) => m[1] ?? "");
    if (files.length === 0)
      throw new BuildError(`font stylesheet '${face}' of '${FONT_PACKAGE}' has no woff2 source`);
    const data = await Promise.all(files.map((file) => readFile(join(dirname(cssPath), file))));
    let i = 0;
    parts.push(
      css
        .replace(
          srcPattern,
          () => `src: url(data:font/woff2;base64,${data[i++]?.toString("base64")}) format("woff2");`,
        )
        .trim(),
    );
  }
  return parts.join("\n") + "\n";
}

/** Where Framework writes the built font stylesheet, and where the build moves it. */
const BUILT_FONTS = "_import/.observablehq/cache/_lakebook";
const SERVED_FONTS = "_import/_lakebook";

/**
 * Moves the built font stylesheet out of the dot folder Framework names after the cache
 * (`_import/.observablehq/...`), which static servers — Lakebook's included — refuse to serve,
 * and points the pages at its new place. A no-op when the pages do not use it.
 */
export async function relocateFontStylesheet(outputDir: string): Promise<void> {
  const from = join(outputDir, BUILT_FONTS);
  if (!existsSync(from)) return;
  await mkdir(join(outputDir, SERVED_FONTS), { recursive: true });
  for (const file of await readdir(from)) await rename(join(from, file), join(outputDir, SERVED_FONTS, file));
  await rm(join(outputDir, "_import", ".observablehq"), { recursive: true, force: true });
  for (const page of await listHtml(outputDir)) {
    const html = await readFile(page, "utf-8");
    if (html.includes(BUILT_FONTS)) await writeFile(page, html.replaceAll(BUILT_FONTS, SERVED_FONTS));
  }
}

async function listHtml(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith("_")) found.push(...(await listHtml(path)));
    else if (entry.isFile() && entry.name.endsWith(".html")) found.push(path);
  }
  return found;
}
