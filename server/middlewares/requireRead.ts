import type { NextFunction, Request, Response } from "express";
import type { PageAccessRule } from "../../src/site/pageAccess.ts";
import type { AccessControl } from "../auth/accessControl.ts";
import { readRefusal } from "../auth/refusalReason.ts";
import { principalOf } from "./authenticate.ts";
import { canonicalPathOf } from "./canonicalPath.ts";

/**
 * Guards the site and the lake: the request path must be readable by the principal (role and
 * access rules; for the site also the live build's page rules, `pageRules`). Anonymous page navigations are redirected to the login page; everything else
 * (assets, lake files) gets a 401, a signed-in user without access a 403.
 */
export function requireRead(
  access: AccessControl,
  pageRules: () => Promise<readonly PageAccessRule[]> = async () => [],
) {
  return async function requireRead(req: Request, res: Response, next: NextFunction): Promise<void> {
    const { segments, path } = canonicalPathOf(res);
    const principal = principalOf(res);
    const rules = await pageRules();
    if (await access.canReadPath(principal, path, rules)) return next();
    if (!principal.user && req.method === "GET" && isPageNavigation(req, segments)) {
      res.setHeader("Cache-Control", "no-store");
      res.redirect(302, `/auth/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    throw await readRefusal(access, principal, path, rules);
  };
}

function isPageNavigation(req: Request, segments: readonly string[]): boolean {
  if (segments[0] === "lake" || (segments[0] ?? "").startsWith("_")) return false;
  const last = segments.at(-1) ?? "";
  return (!last.includes(".") || last.endsWith(".html")) && (req.get("accept") ?? "").includes("text/html");
}
