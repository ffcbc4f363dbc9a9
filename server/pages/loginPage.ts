import type { Response } from "express";
import { escapeHtml, sendPage } from "./html.ts";

export function sendLoginPage(
  res: Response,
  options: { csrf: string; next: string; status?: number; error?: string; userName?: string },
): void {
  sendPage(res, {
    status: options.status,
    title: "Sign in",
    body: `<form class="card" method="post" action="/auth/login">
<h1>Lakebook</h1>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ""}
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<input type="hidden" name="next" value="${escapeHtml(options.next)}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="${escapeHtml(options.userName ?? "")}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="totp">Authenticator code (if enabled)</label>
<input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}">
<button type="submit">Sign in</button>
</form>`,
  });
}
