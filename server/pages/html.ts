/**
 * The server's own pages (login, runs): self-contained HTML with no off-origin resources, sent
 * with a policy that allows exactly their inline style and script by hash.
 */
import { createHash } from "node:crypto";
import type { Response } from "express";

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; color: #1b1e23; margin: 0; background: #f6f7f9; }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
form.card { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border-radius: 8px; box-shadow: 0 1px 3px #0002; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #c4c8cf; border-radius: 4px; }
button { margin-top: 1rem; padding: .5rem 1rem; font: inherit; border: 0; border-radius: 4px; background: #4269d0; color: #fff; cursor: pointer; }
.error { color: #b3261e; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e5e8; font-variant-numeric: tabular-nums; }
.status-failed, .status-timed_out { color: #b3261e; } .status-succeeded { color: #1e7b34; } .status-running { color: #4269d0; }
pre { background: #1b1e23; color: #e3e5e8; padding: .75rem; overflow: auto; max-height: 24rem; font-size: 12px; }
header { display: flex; justify-content: space-between; align-items: center; }
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
<link rel="icon" href="data:,"><title>${escapeHtml(page.title)} · Lakebook</title><style>${STYLE}</style></head>
<body${data}>${page.body}${scriptTag}</body></html>
`;
  const policy = [
    "default-src 'none'",
    `style-src ${hash(STYLE)}`,
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
