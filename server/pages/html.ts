/**
 * The server's own pages (login, runs): self-contained HTML with no off-origin resources, sent
 * with a policy that allows exactly their inline style and script by hash.
 */
import { createHash } from "node:crypto";
import type { Response } from "express";

/**
 * On top of the site's own stylesheets (`/auth/site.css`, siteTheme.ts): the theme's variables
 * give the notebooks' fonts and colors, light or dark as the reader's system prefers; the values
 * after the variables are the look without a published build.
 */
const STYLE = `
:root { color-scheme: light dark; }
body { font: 17px/1.5 var(--serif, system-ui, sans-serif); color: var(--theme-foreground, CanvasText); background: var(--theme-background, Canvas); margin: 0; max-width: none; }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; box-sizing: border-box; }
h1 { font: var(--font-big, 700 32px/1 sans-serif); margin: 1rem 0; }
a { color: var(--theme-foreground-focus, LinkText); }
form.card { box-sizing: border-box; width: calc(100% - 2rem); max-width: 22rem; margin: 4rem auto; padding: 1.5rem; border-radius: 8px; border: 1px solid var(--theme-foreground-faintest, #ddd); background: var(--theme-background-alt, Canvas); }
label { display: block; margin: .75rem 0 .25rem; font: 600 14px var(--sans-serif, sans-serif); }
input { width: 100%; max-width: none; box-sizing: border-box; padding: .5rem; font: 15px var(--sans-serif, sans-serif); color: inherit; background: var(--theme-background, Canvas); border: 1px solid var(--theme-foreground-fainter, #c4c8cf); border-radius: 4px; }
form.card button { display: block; }
form.card input { width: 100%; max-width: 100%; }
button { margin-top: 1rem; padding: .5rem 1rem; font: 15px var(--sans-serif, sans-serif); border: 0; border-radius: 4px; background: var(--theme-foreground-focus, #4269d0); color: #fff; cursor: pointer; }
.error { color: var(--theme-red, #b3261e); }
.muted { color: var(--theme-foreground-muted, GrayText); font: 14px/1.5 var(--sans-serif, sans-serif); }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font: 14px/1.4 var(--sans-serif, sans-serif); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--theme-foreground-faintest, #e3e5e8); font-variant-numeric: tabular-nums; white-space: nowrap; }
.status-failed, .status-timed_out { color: var(--theme-red, #b3261e); } .status-succeeded { color: var(--theme-green, #1e7b34); } .status-running { color: var(--theme-blue, #4269d0); }
pre { background: var(--theme-background-alt, #f6f7f9); color: inherit; padding: .75rem; overflow: auto; max-height: 24rem; font: 12px/1.5 var(--monospace, monospace); white-space: pre-wrap; word-break: break-word; }
pre:empty { display: none; }
code { font: 14px var(--monospace, monospace); overflow-wrap: anywhere; }
header { display: flex; flex-wrap: wrap; gap: .5rem; justify-content: space-between; align-items: center; }
header form button { margin-top: 0; }
`;

function hash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sendPage(
  res: Response,
  page: { status?: number; title: string; body: string; script?: string; bodyData?: Record<string, string> },
): void {
  const data = Object.entries(page.bodyData ?? {})
    .map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`)
    .join("");
  const scriptTag = page.script ? `<script type="module">${page.script}</script>` : "";
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>${escapeHtml(page.title)} · Lakebook</title>
<link rel="stylesheet" href="/auth/site.css"><style>${STYLE}</style></head>
<body${data}>${page.body}${scriptTag}</body></html>
`;
  const policy = [
    "default-src 'none'",
    `style-src 'self' ${hash(STYLE)}`,
    "font-src 'self' data:",
    page.script ? `script-src ${hash(page.script)}` : "script-src 'none'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  res.status(page.status ?? 200);
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Security-Policy", policy);
  res.send(html);
}
