/**
 * Logged-in browser sessions: a login form, an optional TOTP step, and the resulting cookies
 * and local storage (Playwright's storage state) kept encrypted in the secret store, so the next
 * run starts logged in and logs in again only when the site has expired the session.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { SourceError } from "../errors.ts";
import { snapshotNote, snapshotPage } from "./browserSnapshot.ts";
import type { Run } from "./runs.ts";
import type { SecretStore } from "./secrets.ts";
import { totpCode } from "./totp.ts";

export interface BrowserLoginSpec {
  /** The page with the login form. */
  url: string;
  username: string;
  /** Name of the stored secret holding the password. */
  passwordSecret: string;
  /** Name of the stored secret holding the base32 TOTP seed, when the site asks for a code. */
  totpSeedSecret?: string;
  selectors: {
    username: string;
    password: string;
    submit: string;
    /** The one-time code field shown after the password step. */
    totp?: string;
    totpSubmit?: string;
  };
}

export function sessionSecretName(source: string): string {
  return `browser-session-${source}`;
}

/** A browser context with the saved session, if any; `restored` says whether one was used. */
export async function openContext(
  browser: Browser,
  secrets: SecretStore | undefined,
  source: string,
): Promise<{ context: BrowserContext; restored: boolean }> {
  const saved = secrets ? await secrets.maybeGet(sessionSecretName(source)) : undefined;
  const storageState = saved
    ? (JSON.parse(saved) as Awaited<ReturnType<BrowserContext["storageState"]>>)
    : undefined;
  return { context: await browser.newContext({ storageState }), restored: storageState !== undefined };
}

export async function saveSession(
  context: BrowserContext,
  secrets: SecretStore,
  source: string,
): Promise<void> {
  await secrets.set(sessionSecretName(source), JSON.stringify(await context.storageState()));
}

/** True when the page shows the login form (the session is missing or expired). */
export async function showsLoginForm(page: Page, login: BrowserLoginSpec): Promise<boolean> {
  return (await page.locator(login.selectors.password).count()) > 0;
}

/** Logs in on `page`; on a rejected password or code, snapshots the page and throws. */
export async function logIn(
  page: Page,
  login: BrowserLoginSpec,
  secrets: SecretStore,
  run: Run,
  now: () => Date,
): Promise<void> {
  const password = await secrets.get(login.passwordSecret);
  const seed = login.totpSeedSecret ? await secrets.get(login.totpSeedSecret) : undefined;
  const fail = async (what: string) => {
    const keys = await snapshotPage(run, page);
    return new SourceError(`login to ${login.url} failed: ${what}${snapshotNote(keys)}`);
  };
  run.logger.info({ url: login.url, username: login.username }, "logging in");
  await page.goto(login.url);
  if ((await page.locator(login.selectors.password).count()) === 0) {
    throw await fail(`no login form matches '${login.selectors.password}' (the login page changed?)`);
  }
  await page.fill(login.selectors.username, login.username);
  await page.fill(login.selectors.password, password);
  await page.click(login.selectors.submit);
  await page.waitForLoadState("domcontentloaded");

  if (seed !== undefined && login.selectors.totp) {
    const codeField = page.locator(login.selectors.totp);
    if ((await codeField.count()) === 0) {
      throw await fail(
        (await showsLoginForm(page, login))
          ? "the site rejected the username or password (check the stored password secret)"
          : `no one-time code field matches '${login.selectors.totp}'`,
      );
    }
    await codeField.fill(totpCode(seed, now()));
    await page.click(login.selectors.totpSubmit ?? login.selectors.submit);
    await page.waitForLoadState("domcontentloaded");
    if ((await page.locator(login.selectors.totp).count()) > 0) {
      throw await fail("the site rejected the one-time code (check the stored TOTP seed and the clock)");
    }
  }
  if (await showsLoginForm(page, login)) {
    throw await fail("the site rejected the username or password (check the stored password secret)");
  }
  run.logger.info({ url: page.url() }, "logged in");
}
