/**
 * Error pages for readers' browsers (401, 403, 404, …): in the site's look (html.ts), saying what
 * happened in the server's own words (for a refusal, the rule that applied and whom to ask,
 * auth/refusalReason.ts) and where to go next. API and lake clients keep their JSON bodies.
 */
import type { Request, Response } from "express";
import { escapeHtml, sendPage } from "./html.ts";

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad request",
  401: "Sign in to continue",
  403: "Not available to you",
  404: "Page not found",
  405: "Not allowed",
  503: "Not available right now",
};

/** Whether the error for this request should be a page: a browser asking for HTML. */
export function wantsErrorPage(req: Request): boolean {
  return (req.method === "GET" || req.method === "HEAD") && (req.get("accept") ?? "").includes("text/html");
}

export function sendErrorPage(
  req: Request,
  res: Response,
  error: { status: number; message: string; requestId?: string },
): void {
  const title = TITLES[error.status] ?? (error.status >= 500 ? "Something went wrong" : "Request refused");
  const next = encodeURIComponent(req.originalUrl);
  const actions = [
    `<a href="/">Home</a>`,
    error.status === 401 ? `<a href="/auth/login?next=${next}">Sign in</a>` : "",
    error.status === 403 ? `<a href="/auth/logout">Sign in as someone else</a>` : "",
  ].filter(Boolean);
  sendPage(res, {
    status: error.status,
    title,
    body: `<main data-page="error" data-status="${error.status}">
<h1>${escapeHtml(title)}</h1>
<p id="error-message">${escapeHtml(error.message)}</p>
<p>${actions.join(" · ")}</p>
<p class="muted">Error ${error.status}${error.requestId ? ` · request ${escapeHtml(error.requestId)}` : ""}</p>
</main>`,
  });
}
