/** Signing in and sending authenticated requests against a running test server. */
import { hashPassword } from "../../src/auth/index.ts";
import type { Role, Store } from "../../src/store/index.ts";

export const PASSWORD = "correct horse battery";

export interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

export async function addUser(
  store: Store,
  name: string,
  role: Role,
  groups: string[] = [],
  totpSeed?: string,
): Promise<void> {
  await store.addUser({
    name,
    role,
    groups,
    passwordHash: await hashPassword(PASSWORD),
    totpSeed: totpSeed ?? null,
  });
}

export async function login(
  url: string,
  username: string,
  password = PASSWORD,
  totp?: string,
): Promise<Session> {
  const response = await fetch(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password, ...(totp && { totp }) }),
  });
  if (response.status !== 200)
    throw new Error(`login ${username}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { csrfToken: string };
  return { cookie: sessionCookie(response), csrf: body.csrfToken };
}

export function sessionCookie(response: Response): string {
  const set = response.headers.getSetCookie().find((c) => c.startsWith("lakebook_session="));
  if (!set) throw new Error("no session cookie");
  return set.split(";")[0]!;
}

/** A request as a signed-in user (with the CSRF token on state-changing methods). */
export function as(session: Session | undefined, init: RequestInit & { json?: unknown } = {}): RequestInit {
  const headers = new Headers(init.headers);
  if (session) headers.set("cookie", session.cookie);
  if (session && init.method && init.method !== "GET" && init.method !== "HEAD")
    headers.set("x-csrf-token", session.csrf);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const { json, ...rest } = init;
  return { redirect: "manual", ...rest, headers, ...(json !== undefined && { body: JSON.stringify(json) }) };
}
