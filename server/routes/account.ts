/**
 * `/auth` pages beside sign-in (routes/auth.ts): `GET /auth/logout`, the page the account control
 * on every notebook page links to (who is signed in, and a sign-out button posting the session's
 * CSRF token, so a link alone never signs anyone out), and `GET /auth/site.css`, the site's look
 * for the server's pages (pages/siteTheme.ts).
 */
import { Router } from "express";
import { principalOf } from "../middlewares/authenticate.ts";
import type { PublishedSite } from "../middlewares/siteFiles.ts";
import { escapeHtml, sendPage } from "../pages/html.ts";
import { siteTheme } from "../pages/siteTheme.ts";

export function accountRouter(site: PublishedSite): Router {
  const router = Router({ caseSensitive: true, strict: true });
  router.get("/site.css", siteTheme(site));
  router.get("/logout", (_req, res) => {
    const { user, session } = principalOf(res);
    const body =
      user && session
        ? `<form class="card" method="post" action="/auth/logout" data-page="logout">
<h1>Sign out</h1>
<p>Signed in as <strong>${escapeHtml(user.name)}</strong> (${escapeHtml(user.role)}${
            user.groups.length ? `; groups ${escapeHtml(user.groups.join(", "))}` : ""
          }).</p>
<input type="hidden" name="csrf" value="${escapeHtml(session.csrfToken)}">
<button type="submit">Sign out</button>
<p class="muted"><a href="/">Back to the site</a></p>
</form>`
        : `<main data-page="logout"><h1>Signed out</h1><p>You are not signed in.</p>
<p><a href="/auth/login">Sign in</a> · <a href="/">Home</a></p></main>`;
    sendPage(res, { title: "Sign out", body });
  });
  return router;
}
