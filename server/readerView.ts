/**
 * A published page as one reader is sent it: the build stamp, the sidebar and pager without the
 * pages that reader may not read (navigation.ts), and the account control (sign in, signed in
 * as, sign out).
 *
 * Page bytes are cached once per build and shared by every reader (pageCache.ts), so what a
 * reader is sent must depend only on what that reader may see. A view is therefore keyed by
 * exactly that: the page, the hidden pages among those it links to, and the account line. Two
 * readers who may see the same pages under the same name get the same bytes and the same ETag;
 * a reader who may see less gets other bytes under another ETag. Both request paths (the fast
 * path and Express) compute the key the same way, the fast path from memory alone.
 */
import { createHash } from "node:crypto";
import type { AccessControl, AccessMode, Principal } from "./auth/accessControl.ts";
import type { StampTransform } from "./buildStamp.ts";
import { navigationTargets, withoutHiddenLinks } from "./navigation.ts";
import { escapeHtml } from "./pages/html.ts";
import type { PageAccessRule } from "../src/site/pageAccess.ts";

/** What a reader may see of a page's navigation, and how the account control reads. */
export interface ReaderFacts {
  readonly hidden: readonly string[];
  /** Undefined: no control (an open site without users has nobody to sign in as). */
  readonly account: { readonly user?: string } | undefined;
}

const CENTER = '<div id="observablehq-center">';

/** The account control, placed at the top of the page's content column. */
export function accountControl(account: { readonly user?: string }, pagePath: string): string {
  const inner = account.user
    ? `Signed in as <strong>${escapeHtml(account.user)}</strong> · <a href="/auth/logout">Sign out</a>`
    : `<a href="/auth/login?next=${encodeURIComponent(pagePath)}">Sign in</a>`;
  return `<div id="lakebook-account" style="font-size:13px;text-align:right;padding:.5rem 0 0;color:var(--theme-foreground-muted)">${inner}</div>`;
}

export interface ReaderViews {
  /** The facts for `principal` on the page `pagePath`, or undefined when they need the store. */
  factsNow(
    content: Buffer,
    pagePath: string,
    principal: Principal,
    pageRules: readonly PageAccessRule[],
  ): ReaderFacts | undefined;
  facts(
    content: Buffer,
    pagePath: string,
    principal: Principal,
    pageRules: readonly PageAccessRule[],
  ): Promise<ReaderFacts>;
  /** Whether `principal` may read the page at `path` (a search document, a link). */
  canRead(principal: Principal, path: string, pageRules: readonly PageAccessRule[]): Promise<boolean>;
  /** The transform of the page for these facts (the stamp alone when nothing changes). */
  transform(
    stamp: StampTransform | undefined,
    pagePath: string,
    facts: ReaderFacts,
  ): StampTransform | undefined;
}

export interface ReaderViewOptions {
  /** The address of a page's PDF snapshot, linked from the page; undefined: no link. */
  readonly pdfLink?: (pagePath: string) => string | undefined;
}

const STAMP = '<div id="lakebook-build"';

/** The page's "PDF" link: in the build stamp's line when the page has one, else a line of its own. */
export function withPdfLink(html: string, href: string): string {
  const link = `<a href="${escapeHtml(href)}" style="color:inherit" data-testid="pdf-link">PDF</a>`;
  const stamp = html.lastIndexOf(STAMP);
  const stampEnd = stamp === -1 ? -1 : html.indexOf("</div>", stamp);
  if (stampEnd !== -1) {
    return `${html.slice(0, stampEnd)}<span id="lakebook-pdf"> · ${link}</span>${html.slice(stampEnd)}`;
  }
  const at = html.lastIndexOf("</body>");
  if (at === -1) return html;
  const line = `<div id="lakebook-pdf" style="font:12px/1.4 system-ui,sans-serif;color:#6b7280;padding:.5rem 1rem;text-align:right">${link}</div>`;
  return html.slice(0, at) + line + html.slice(at);
}

export function createReaderViews(access: AccessControl, options: ReaderViewOptions = {}): ReaderViews {
  /** Link targets per page body: the body never changes for a cached page. */
  const targetsOf = new WeakMap<Buffer, readonly string[]>();
  const targets = (content: Buffer, pagePath: string): readonly string[] => {
    let known = targetsOf.get(content);
    if (!known) {
      known = navigationTargets(content.toString("utf8"), pagePath);
      targetsOf.set(content, known);
    }
    return known;
  };
  const accountOf = (principal: Principal, mode: AccessMode): ReaderFacts["account"] => {
    if (principal.user) return { user: principal.user.name };
    return mode === "public" && access.store ? {} : undefined;
  };
  const transforms = new Map<string, StampTransform | undefined>();

  return {
    factsNow(content, pagePath, principal, pageRules) {
      const mode = principal.user ? "private" : access.modeNow();
      if (mode === undefined) return undefined;
      const hidden: string[] = [];
      for (const target of targets(content, pagePath)) {
        const readable = access.canReadPathNow(principal, target, pageRules);
        if (readable === undefined) return undefined;
        if (!readable) hidden.push(target);
      }
      return { hidden, account: accountOf(principal, mode) };
    },
    async facts(content, pagePath, principal, pageRules) {
      const mode = principal.user ? "private" : await access.mode();
      const hidden: string[] = [];
      for (const target of targets(content, pagePath)) {
        if (!(await access.canReadPath(principal, target, pageRules))) hidden.push(target);
      }
      return { hidden, account: accountOf(principal, mode) };
    },
    canRead: (principal, path, pageRules) => access.canReadPath(principal, path, pageRules),
    transform(stamp, pagePath, facts) {
      const pdf = options.pdfLink?.(pagePath);
      if (facts.hidden.length === 0 && facts.account === undefined && pdf === undefined) return stamp;
      const key = JSON.stringify([stamp?.tag ?? "", pagePath, facts.hidden, facts.account]);
      if (transforms.has(key)) return transforms.get(key);
      const hidden = new Set(facts.hidden);
      const control = facts.account ? accountControl(facts.account, pagePath) : "";
      const view: StampTransform = {
        tag: `${stamp?.tag ?? "0"}.${createHash("sha256").update(key).digest("hex").slice(0, 8)}`,
        apply(content) {
          let html = (stamp ? stamp.apply(content) : content).toString("utf8");
          html = withoutHiddenLinks(html, pagePath, hidden);
          if (control) html = html.replace(CENTER, `${CENTER}\n${control}`);
          if (pdf !== undefined) html = withPdfLink(html, pdf);
          return Buffer.from(html);
        },
      };
      // Bounded: one entry per page, stamp and kind of reader; cleared when it grows past that.
      if (transforms.size > 10_000) transforms.clear();
      transforms.set(key, view);
      return view;
    },
  };
}
