/**
 * Who may do what. Decisions, in one place:
 *
 * - Access control is ON when the server has a record store with at least one user, unless the
 *   site is public (`LAKEBOOK_PUBLIC=true`). A fresh install (no users yet, e.g. `lakebook demo`)
 *   and a server started without a store (`createApp(config)` in tests) are readable without
 *   login, but nothing can be changed anonymously: every state-changing API needs a signed-in
 *   user. `lakebook user add <name> --role admin` turns access control on.
 * - Public mode: pages, the lake and the dataset/build APIs are readable anonymously; run
 *   history, schedules and every change still need a signed-in user with the right role.
 * - Roles: viewer reads pages, the lake, datasets and builds; analyst also reads runs and
 *   schedules and triggers or cancels runs; admin also manages schedules, rolls back and reads the
 *   audit log.
 * - Access rules (path prefix -> groups, in the store, set with `lakebook publish access`) narrow
 *   reading further: a page, its attachments (`/_file/<path>`) and lake folders under a rule are
 *   readable only by admins and members of one of the rule's groups, in every mode. A page's
 *   front matter (`access: [finance]`) does the same for that page and its own attachments,
 *   through rules published with the build (src/site/pageAccess.ts).
 *
 * Sessions are looked up through a short cache (a few seconds) so a page view costs no database
 * round trip; a logout on this process takes effect at once, on another process within the TTL.
 *
 * A store outage does not take reading down (see storeCache.ts): sessions, the user count and the
 * rules read before are served stale for up to `staleMs` (10 min; a session never past its
 * expiry). What was never read fails closed: an unknown session cookie or a cold cache answers
 * 503 (STORE_UNAVAILABLE), never "anonymous in an open site".
 */
import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Config } from "../../src/config.ts";
import type { PageAccessRule } from "../../src/site/pageAccess.ts";
import type { Logger } from "../../src/logger.ts";
import type { AccessRule, Role, Session, Store, User } from "../../src/store/index.ts";
import { rulePath } from "../safePath.ts";
import { createStoreCache, createStoreHealth } from "./storeCache.ts";

export type Capability = "read" | "readOps" | "operate" | "admin";

const ROLE_CAPABILITIES: Readonly<Record<Role, readonly Capability[]>> = {
  viewer: ["read"],
  analyst: ["read", "readOps", "operate"],
  admin: ["read", "readOps", "operate", "admin"],
};

export type AccessMode = "open" | "public" | "private";

/** The signed-in user of a request, if any. */
export interface Principal {
  readonly user?: User;
  readonly session?: Session;
}

export const SESSION_COOKIE = "lakebook_session";

export interface AccessControlOptions {
  /** Session lifetime (default 8 h). */
  readonly sessionTtlMs?: number;
  /** How long a looked-up session, user count or rule list is reused (default 5 s). */
  readonly cacheTtlMs?: number;
  /**
   * While the store cannot answer: how long after it was read a session, user count or rule
   * list is still served (default 10 min; a session never past its expiry).
   */
  readonly staleMs?: number;
  /** After the store failed to answer, how long to serve cached answers without asking it (default 2 s). */
  readonly retryMs?: number;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export interface AccessControl {
  readonly store: Store | undefined;
  readonly sessionTtlMs: number;
  mode(): Promise<AccessMode>;
  /** The principal for a raw Cookie header. */
  authenticate(cookieHeader: string | undefined): Promise<Principal>;
  /**
   * `authenticate` answered from memory alone: undefined when that needs the store (a session
   * not looked up within the cache TTL). Never a staler answer than `authenticate` would give.
   */
  authenticateNow(cookieHeader: string | undefined): Principal | undefined;
  can(principal: Principal, capability: Capability): Promise<boolean>;
  /**
   * Whether `principal` may read the URL path (already decoded and normalized). `pageRules` are
   * the published build's rules from page front matter (src/site/pageAccess.ts), for site paths.
   */
  canReadPath(principal: Principal, path: string, pageRules?: readonly PageAccessRule[]): Promise<boolean>;
  /** `canReadPath` from memory alone: undefined when the user count or the rules need the store. */
  canReadPathNow(
    principal: Principal,
    path: string,
    pageRules?: readonly PageAccessRule[],
  ): boolean | undefined;
  /** Starts a session; returns the cookie token (only ever sent to the client). */
  startSession(user: User): Promise<{ token: string; session: Session }>;
  endSession(session: Session): Promise<void>;
  /** Drops cached sessions, rules and counts (after user or rule changes in this process). */
  forget(): void;
}

export function createAccessControl(
  config: Config,
  store: Store | undefined,
  options: AccessControlOptions = {},
): AccessControl {
  const now = options.now ?? (() => new Date());
  const sessionTtlMs = options.sessionTtlMs ?? 8 * 60 * 60 * 1000;
  const health = createStoreHealth({ retryMs: options.retryMs ?? 2000, logger: options.logger });
  const cacheOptions = { ttlMs: options.cacheTtlMs ?? 5000, staleMs: options.staleMs ?? 10 * 60_000, health };
  const users = createStoreCache<number>(cacheOptions);
  const rules = createStoreCache<readonly AccessRule[]>(cacheOptions);
  const sessions = createStoreCache<Principal>(cacheOptions);

  const userCountNow = (): number | undefined => (store ? users.fresh("") : 0);
  const userCount = async (): Promise<number> =>
    store ? ((await users.get("", () => store.countUsers())) ?? 0) : 0;
  const accessRulesNow = (): readonly AccessRule[] | undefined => (store ? rules.fresh("") : []);
  const accessRules = async (): Promise<readonly AccessRule[]> =>
    store ? ((await rules.get("", () => store.listAccessRules())) ?? []) : [];
  const modeOf = (count: number): AccessMode =>
    config.publicMode ? "public" : count > 0 ? "private" : "open";
  const mode = async (): Promise<AccessMode> => modeOf(config.publicMode ? 0 : await userCount());
  const modeNow = (): AccessMode | undefined => {
    if (config.publicMode) return "public";
    const count = userCountNow();
    return count === undefined ? undefined : modeOf(count);
  };

  /** The session token of a Cookie header, hashed as stored; undefined when there is none. */
  const sessionKey = (cookieHeader: string | undefined): string | undefined => {
    const token = readCookie(cookieHeader, SESSION_COOKIE);
    if (!store || token === undefined || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    return hashToken(token);
  };
  const expiryOf = (principal: Principal): number => principal.session?.expiresAt.getTime() ?? 0;
  const cachedPrincipal = (idHash: string): Principal | undefined => {
    const cached = sessions.fresh(idHash);
    if (cached === undefined) return undefined;
    return expiryOf(cached) > now().getTime() ? cached : {};
  };

  const capable = (principal: Principal, capability: Capability, current: AccessMode): boolean =>
    principal.user
      ? ROLE_CAPABILITIES[principal.user.role].includes(capability)
      : anonymousCan(capability, current);
  const rulesAllow = (
    principal: Principal,
    path: string,
    list: readonly AccessRule[],
    pageRules: readonly PageAccessRule[],
  ): boolean => {
    if (principal.user?.role === "admin" || (list.length === 0 && pageRules.length === 0)) return true;
    const groups = new Set(principal.user?.groups ?? []);
    const member = (rule: { groups: readonly string[] }) => rule.groups.some((group) => groups.has(group));
    // Both sides case-folded (rulePath): a spelling in another case is never less protected.
    const target = rulePath(ruleTarget(path));
    if (list.some((rule) => pathMatches(rulePath(rule.path), target) && !member(rule))) return false;
    const page = rulePath(pageTarget(path));
    return !pageRules.some((rule) => rulePath(rule.path) === page && !member(rule));
  };

  return {
    store,
    sessionTtlMs,
    mode,
    async authenticate(cookieHeader) {
      const idHash = sessionKey(cookieHeader);
      if (idHash === undefined) return {};
      const known = cachedPrincipal(idHash);
      if (known !== undefined) return known;
      const principal = await sessions.get(
        idHash,
        async () => {
          const found = await store!.maybeSession(idHash, now());
          return found && { user: found.user, session: found.session };
        },
        // Served (stale or not) only while the session is valid by this process's clock.
        (principal) => expiryOf(principal) - now().getTime() + Date.now(),
      );
      return principal ?? {};
    },
    authenticateNow(cookieHeader) {
      const idHash = sessionKey(cookieHeader);
      return idHash === undefined ? {} : cachedPrincipal(idHash);
    },
    async can(principal, capability) {
      return capable(principal, capability, principal.user ? "private" : await mode());
    },
    async canReadPath(principal, path, pageRules = []) {
      if (!(await this.can(principal, "read"))) return false;
      return rulesAllow(principal, path, await accessRules(), pageRules);
    },
    canReadPathNow(principal, path, pageRules = []) {
      const current = principal.user ? "private" : modeNow();
      const list = accessRulesNow();
      if (current === undefined || list === undefined) return undefined;
      return capable(principal, "read", current) && rulesAllow(principal, path, list, pageRules);
    },
    async startSession(user) {
      if (!store) throw new Error("sessions need a record store");
      const token = randomBytes(32).toString("base64url");
      const session = await store.createSession({
        idHash: hashToken(token),
        userName: user.name,
        csrfToken: randomBytes(32).toString("base64url"),
        expiresAt: new Date(now().getTime() + sessionTtlMs),
      });
      return { token, session };
    },
    async endSession(session) {
      sessions.delete(session.idHash);
      await store?.deleteSession(session.idHash);
    },
    forget() {
      users.clear();
      rules.clear();
      sessions.clear();
    },
  };
}

/**
 * Whether a request without a session has `capability` in access mode `mode`: the one answer the
 * API's checks and its OpenAPI document (which routes need a session) both use.
 */
export function anonymousCan(capability: Capability, mode: AccessMode): boolean {
  if (mode === "open") return capability === "read" || capability === "readOps";
  if (mode === "public") return capability === "read";
  return false;
}

export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/** One cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Constant-time string comparison for tokens. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The path a rule is matched against: Framework serves a page's attachments under
 * `/_file/<page folder>/...` and its modules under `/_import/...`, so those count as the page's
 * folder; `.html` spellings count as the clean URL.
 */
export function ruleTarget(path: string): string {
  return pageTarget(path.replace(/^\/_(file|import)\//, "/"));
}

/**
 * The path a page rule (exact) is matched against: a page's `.html` spelling and `index` count as
 * its clean URL; attachment paths (`/_file/...`) are matched as they are.
 */
export function pageTarget(path: string): string {
  let target = path;
  if (target.endsWith(".html")) target = target.slice(0, -".html".length);
  if (target.endsWith("/index")) target = target.slice(0, -"index".length);
  return target;
}

/** A rule path matches itself, anything below it, and (for `/dir/`) the bare `/dir`. */
export function pathMatches(rule: string, path: string): boolean {
  if (path === rule) return true;
  const folder = rule.endsWith("/") ? rule : `${rule}/`;
  return path.startsWith(folder) || path === folder.slice(0, -1);
}
