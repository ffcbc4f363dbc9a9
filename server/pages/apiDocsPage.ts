/**
 * `/api/docs`: the API reference, rendered on the server from the OpenAPI document
 * (`/api/openapi.json`, api/openapi.ts) as plain HTML in the site's look: no script, nothing from a
 * CDN, so it reads offline and on a phone. One section per tag, one entry per operation with its
 * method, path, summary, required role, parameters and request body schema.
 */
import type { Response } from "express";
import { escapeHtml, sendPage } from "./html.ts";

interface Operation {
  readonly summary?: string;
  readonly tags?: readonly string[];
  readonly parameters?: readonly { name: string; in: string; required?: boolean; schema?: unknown }[];
  readonly requestBody?: { content?: Record<string, { schema?: unknown }> };
  readonly responses?: Record<string, unknown>;
  readonly "x-lakebook-capability"?: string;
}

interface Document {
  readonly info: { title: string; version: string; description?: string };
  readonly paths: Record<string, Record<string, Operation>>;
}

/** Who may call an operation, by the capability the server checks. */
const WHO: Readonly<Record<string, string>> = {
  none: "anyone the site is open to",
  read: "readers (viewer, analyst, admin)",
  readOps: "analysts and admins",
  operate: "analysts and admins",
  admin: "admins",
};

export function renderApiDocs(document: Document): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const tag = operation.tags?.[0] ?? "other";
      const list = byTag.get(tag) ?? [];
      list.push(renderOperation(method, path, operation));
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag]
    .map(
      ([tag, operations]) =>
        `<section><h2 id="${escapeHtml(tag)}">${escapeHtml(tag)}</h2>\n${operations.join("\n")}</section>`,
    )
    .join("\n");
  const toc = [...byTag.keys()]
    .map((tag) => `<a href="#${escapeHtml(tag)}">${escapeHtml(tag)}</a>`)
    .join(" · ");
  return `<main data-page="api-docs">
<h1>${escapeHtml(document.info.title)}</h1>
<p>${escapeHtml(document.info.description ?? "")}</p>
<p class="muted">Version ${escapeHtml(document.info.version)} · machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1) · ${toc}</p>
${sections}
</main>`;
}

function renderOperation(method: string, path: string, operation: Operation): string {
  const parameters = operation.parameters ?? [];
  const rows = parameters
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? "yes" : "no"}</td><td><code>${escapeHtml(schemaText(p.schema))}</code></td></tr>`,
    )
    .join("");
  const body = operation.requestBody?.content?.["application/json"]?.schema;
  const statuses = Object.keys(operation.responses ?? {}).join(", ");
  return `<article class="api-operation" id="${escapeHtml(`${method}-${path}`)}">
<h3><code>${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</code></h3>
<p>${escapeHtml(operation.summary ?? "")}</p>
<p class="muted">For ${escapeHtml(WHO[operation["x-lakebook-capability"] ?? "none"] ?? "signed-in users")} · responses ${escapeHtml(statuses)}</p>
${rows ? `<div class="scroll"><table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr></thead><tbody>${rows}</tbody></table></div>` : ""}
${body ? `<p class="muted">Request body (JSON):</p><pre>${escapeHtml(JSON.stringify(body, null, 2))}</pre>` : ""}
</article>`;
}

/** A one-line summary of a JSON Schema: its type, enum, format or bounds. */
function schemaText(schema: unknown): string {
  if (typeof schema !== "object" || schema === null) return "any";
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const parts = [String(s.type ?? "any")];
  if (typeof s.format === "string") parts.push(s.format);
  if (typeof s.pattern === "string") parts.push(`/${s.pattern}/`);
  if (s.minimum !== undefined || s.maximum !== undefined)
    parts.push(`${String(s.minimum ?? "")}…${String(s.maximum ?? "")}`);
  return parts.join(" ");
}

export function sendApiDocs(res: Response, document: object): void {
  sendPage(res, { title: "API", body: renderApiDocs(document as Document) });
}
