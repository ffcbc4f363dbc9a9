/**
 * `/auth`: the login page, login (form or JSON) and logout.
 *
 * Login failures all look alike ("wrong user name, password or code") whether the user exists,
 * the password or the TOTP code is wrong or already used, or the account is locked, so nothing about accounts
 * leaks; unknown users cost the same scrypt time. Each client address may try `limit` times per
 * window (429 after that), and an account is locked after `maxFailures` consecutive failures.
 * The client address is `req.ip`: the socket's address, or behind proxies named by the
 * `trust proxy` setting (config `trustProxy`) the one they forwarded; X-Forwarded-For from anyone
 * else is ignored, so a client cannot pick a fresh rate-limit bucket per request.
 * The form posts carry a per-visit token also set as a cookie (double submit), so another site
 * cannot sign a browser into an account of its choosing; JSON logins need a CORS preflight
 * cross-site, which this server never grants.
 */
import { randomBytes } from "node:crypto";
import express, { Router, type Request } from "express";
import { z } from "zod";
import type { Config } from "../../src/config.ts";
import { HttpError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { Store, User } from "../../src/store/index.ts";
import { SESSION_COOKIE, readCookie, sameToken, type AccessControl } from "../auth/accessControl.ts";
import { DUMMY_HASH, open, parseSecretKey, totpStep, verifyPassword } from "../../src/auth/index.ts";
import type { RateLimiter } from "../auth/rateLimiter.ts";
import { principalOf } from "../middlewares/authenticate.ts";
import { csrfGuard } from "../middlewares/csrfGuard.ts";
import { sendLoginPage } from "../pages/loginPage.ts";

const LOGIN_CSRF_COOKIE = "lakebook_login";
const FAILED =
  "wrong user name, password or code (accounts lock after repeated failures: wait or ask an admin)";

export interface LoginPolicy {
  /** Consecutive failures before an account locks (default 5). */
  readonly maxFailures: number;
  /** How long a locked account stays locked (default 15 min). */
  readonly lockMs: number;
  readonly limiter: RateLimiter;
}

const loginSchema = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^(\d{6})?$/)
    .optional(),
  next: z.string().max(2048).optional(),
  csrf: z.string().max(128).optional(),
});

export function authRouter(
  config: Config,
  access: AccessControl,
  policy: LoginPolicy,
  logger: Logger,
): Router {
  const router = Router({ caseSensitive: true, strict: true });
  const forms = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 20 });
  const json = express.json({ limit: "8kb" });

  router.get("/login", (req, res) => {
    const token = randomBytes(24).toString("base64url");
    res.setHeader(
      "Set-Cookie",
      cookie(req, LOGIN_CSRF_COOKIE, token, { path: "/auth", maxAge: 3600, sameSite: "Strict" }),
    );
    sendLoginPage(res, { csrf: token, next: safeNext(req.query.next) });
  });

  router.post("/login", forms, json, csrfGuard({ sessionToken: false }), async (req, res) => {
    const isForm = Boolean(req.is("application/x-www-form-urlencoded"));
    const ip = clientAddress(req);
    const store = access.store;
    if (!store) throw new HttpError(404, "this server has no users: start it with `lakebook serve`");
    const wait = policy.limiter.hit(ip);
    if (wait !== undefined) {
      res.setHeader("Retry-After", String(wait));
      await store.audit({ action: "login.rate_limited", ip });
      throw new HttpError(429, `too many sign-in attempts from this address: try again in ${wait} s`);
    }
    if (!req.is("application/json") && !req.is("application/x-www-form-urlencoded")) {
      throw new HttpError(415, "send the login as application/json or an HTML form");
    }
    const parsed = loginSchema.safeParse(req.body);
    if (!parsed.success)
      throw new HttpError(400, "login needs 'username' and 'password' (and 'totp' when enabled)");
    const input = parsed.data;
    const next = safeNext(input.next);
    if (isForm && !sameToken(input.csrf, readCookie(req.get("cookie"), LOGIN_CSRF_COOKIE))) {
      throw new HttpError(
        403,
        "forbidden: the sign-in form expired or came from another site; reload /auth/login",
      );
    }

    const user = await store.maybeUser(input.username);
    const now = new Date();
    const passwordOk = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
    const locked = user?.lockedUntil !== null && user?.lockedUntil !== undefined && user.lockedUntil > now;
    const ok =
      user !== undefined && passwordOk && !locked && (await totpOk(config, store, user, input.totp, now));
    if (!ok) {
      if (user && !locked)
        await store.recordLoginFailure(user.name, {
          now,
          maxFailures: policy.maxFailures,
          lockMs: policy.lockMs,
        });
      await store.audit({
        action: locked ? "login.locked" : "login.failed",
        actor: input.username.slice(0, 64),
        ip,
      });
      logger.warn({ user: input.username.slice(0, 64), ip, locked }, "sign-in failed");
      if (isForm) {
        const token = randomBytes(24).toString("base64url");
        res.setHeader(
          "Set-Cookie",
          cookie(req, LOGIN_CSRF_COOKIE, token, { path: "/auth", maxAge: 3600, sameSite: "Strict" }),
        );
        sendLoginPage(res, { status: 401, csrf: token, next, error: FAILED, userName: input.username });
        return;
      }
      throw new HttpError(401, FAILED);
    }
    await store.clearLoginFailures(user.name);
    const { token, session } = await access.startSession(user);
    await store.audit({ action: "login", actor: user.name, ip });
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Set-Cookie", [
      cookie(req, SESSION_COOKIE, token, {
        path: "/",
        maxAge: Math.floor(access.sessionTtlMs / 1000),
        sameSite: "Lax",
      }),
      cookie(req, LOGIN_CSRF_COOKIE, "", { path: "/auth", maxAge: 0, sameSite: "Strict" }),
    ]);
    if (isForm) {
      res.redirect(303, next);
      return;
    }
    res.json({
      user: { name: user.name, role: user.role, groups: user.groups },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
    });
  });

  router.post("/logout", forms, json, csrfGuard(), async (req, res) => {
    // The CSRF guard already checked the token for this session.
    const { session, user } = principalOf(res);
    if (session) {
      await access.endSession(session);
      await access.store?.audit({
        action: "logout",
        actor: user?.name ?? null,
        ip: clientAddress(req),
      });
    }
    res.setHeader("Set-Cookie", cookie(req, SESSION_COOKIE, "", { path: "/", maxAge: 0, sameSite: "Lax" }));
    res.setHeader("Cache-Control", "no-store");
    if (req.is("application/x-www-form-urlencoded")) res.redirect(303, "/auth/login");
    else res.status(204).end();
  });

  return router;
}

/** The client's address as the `trust proxy` setting sees it. */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? "unknown";
}

/**
 * Whether `code` is the user's current TOTP code and was not used before: the step it belongs to
 * is recorded in the store, so a code seen once (on any server sharing the store) is refused like
 * a wrong one for the rest of its window.
 */
async function totpOk(
  config: Config,
  store: Store,
  user: User,
  code: string | undefined,
  now: Date,
): Promise<boolean> {
  if (user.totpSeed === null) return true;
  if (!code) return false;
  let step: number | undefined;
  try {
    step = totpStep(open(user.totpSeed, parseSecretKey(config.secretKey)), code, now.getTime());
  } catch {
    return false;
  }
  return step !== undefined && (await store.acceptTotpStep(user.name, step));
}

/** Only a path on this site: `/x`, never `//host` or `/\host` (open redirect). */
export function safeNext(value: unknown): string {
  if (
    typeof value !== "string" ||
    !value.startsWith("/") ||
    value.startsWith("//") ||
    value.startsWith("/\\")
  )
    return "/";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return "/";
  return value;
}

function cookie(
  req: Request,
  name: string,
  value: string,
  options: { path: string; maxAge: number; sameSite: "Lax" | "Strict" },
): string {
  return [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAge}`,
    "HttpOnly",
    `SameSite=${options.sameSite}`,
    ...(req.secure ? ["Secure"] : []),
  ].join("; ");
}
