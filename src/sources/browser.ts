/**
 * The browser source: Chromium (playwright-core) renders each start URL — logged in through a
 * saved or fresh session — extracts a table from the rendered DOM and captures the JSON
 * responses the page fetches, then follows the "next" link. Navigations go through the per-host
 * rate limit, at most `concurrency` pages at once, and are retried with backoff on network
 * errors, 429 and 5xx. What is landed per page: the extracted rows as JSON and each captured JSON
 * response's bytes as fetched. When extraction fails, a screenshot and the rendered HTML are
 * landed as snapshots and the run fails naming them.
 */
import type { Browser, Page, Response } from "playwright-core";
import { SourceError } from "../errors.ts";
import { snapshotNote, snapshotPage } from "./browserSnapshot.ts";
import { type BrowserLoginSpec, logIn, openContext, saveSession, showsLoginForm } from "./browserSession.ts";
import { launchChromium } from "./chromium.ts";
import { type HostLimitOptions, type HostLimiter, createHostLimiter } from "./rateLimit.ts";
import { DEFAULT_RETRY, type RetryPolicy, TransientError, parseRetryAfter, withRetry } from "./retry.ts";
import { type Run, type RunRecord, type SourceContext, runSource } from "./runs.ts";
import type { SecretStore } from "./secrets.ts";

export interface BrowserSourceSpec {
  source: string;
  /** Pages to extract; each is followed through its pagination. */
  urls: string[];
  login?: BrowserLoginSpec;
  extract: {
    /** Selector of a rendered table; columns are named after its header cells. */
    table?: string;
    /** Capture JSON responses whose URL contains this string. */
    jsonUrlIncludes?: string;
    /** Wait for this selector before extracting (content rendered by scripts). */
    waitFor?: string;
    /** How long to wait for `waitFor` and `table` to appear before declaring the layout changed. */
    timeoutMs?: number;
  };
  /** Selector of the "next page" link or button; pagination stops when it is absent. */
  nextPage?: string;
  maxPages?: number;
  /** Pages open at once. */
  concurrency?: number;
  rateLimit?: HostLimitOptions;
  retry?: RetryPolicy;
  /** Per navigation and browser action. */
  timeoutMs?: number;
}

export interface BrowserPage {
  url: string;
  rows: Record<string, string>[];
  json: unknown[];
}

export interface BrowserSourceResult {
  pages: BrowserPage[];
  /** Whether a saved session was reused, and how many logins this run needed. */
  sessionReused: boolean;
  logins: number;
  created: number;
  run: RunRecord;
}

export interface BrowserContextOptions extends SourceContext {
  secrets?: SecretStore;
  /** A running browser to reuse (tests, several sources); otherwise one is launched and closed. */
  browser?: Browser;
  executablePath?: string;
  limiter?: HostLimiter;
}

export async function runBrowserSource(
  context: BrowserContextOptions,
  spec: BrowserSourceSpec,
): Promise<BrowserSourceResult> {
  const { source, urls, login, extract, nextPage } = spec;
  const maxPages = spec.maxPages ?? 100;
  const concurrency = Math.max(1, spec.concurrency ?? 2);
  const { result, record } = await runSource(
    context,
    {
      source,
      kind: "browser",
      parameters: { urls, login, extract, nextPage, maxPages, concurrency, rateLimit: spec.rateLimit },
    },
    async (run) => {
      if (login && !context.secrets) {
        throw new SourceError(
          `source '${source}' logs in, so it needs a secret store (set LAKEBOOK_SECRET_KEY)`,
        );
      }
      const browser = context.browser ?? (await launchChromium({ executablePath: context.executablePath }));
      const limiter = context.limiter ?? createHostLimiter(spec.rateLimit);
      const now = context.now ?? (() => new Date());
      try {
        const { context: browserContext, restored } = await openContext(browser, context.secrets, source);
        browserContext.setDefaultTimeout(spec.timeoutMs ?? 15_000);
        let logins = 0;
        // One login at a time: parallel pages that all find the session expired log in once, and
        // a page that was opened before a login finished just reloads with the new session.
        let loginInFlight: Promise<void> | undefined;
        let sessionGeneration = 0;
        const ensureLoggedIn = async (page: Page, openedInGeneration: number) => {
          if (!login || !(await showsLoginForm(page, login))) return false;
          if (sessionGeneration > openedInGeneration) return true;
          loginInFlight ??= (async () => {
            logins += 1;
            const loginPage = await browserContext.newPage();
            try {
              await logIn(loginPage, login, context.secrets!, run, now);
              // Saved at once, so a later extraction failure does not cost the next run a login.
              await saveSession(browserContext, context.secrets!, source);
              sessionGeneration += 1;
            } finally {
              await loginPage.close();
            }
          })();
          try {
            await loginInFlight;
          } finally {
            loginInFlight = undefined;
          }
          return true;
        };
        const crawl = async (startUrl: string): Promise<BrowserPage[]> => {
          const page = await browserContext.newPage();
          try {
            const generation = () => sessionGeneration;
            return await crawlFrom(page, startUrl, {
              spec,
              run,
              limiter,
              ensureLoggedIn,
              generation,
              maxPages,
            });
          } finally {
            await page.close();
          }
        };
        try {
          const pages = (await mapPool(urls, concurrency, crawl)).flat();
          if (login && context.secrets) await saveSession(browserContext, context.secrets, source);
          for (const page of pages) {
            // Rows only: the URL is in the provenance, and a session id or port in it must not make
            // unchanged rows look new.
            const data = Buffer.from(JSON.stringify(page.rows) + "\n", "utf8");
            if (extract.table) {
              await run.land({ origin: page.url, data, extension: "json", contentType: "application/json" });
            }
            run.addRows(page.rows.length);
          }
          return { pages, sessionReused: restored && logins === 0, logins };
        } finally {
          await browserContext.close();
        }
      } finally {
        if (!context.browser) await browser.close();
      }
    },
  );
  return { ...result, created: record.created, run: record };
}

interface CrawlOptions {
  spec: BrowserSourceSpec;
  run: Run;
  limiter: HostLimiter;
  /** Logs in if the page shows the login form; true when the page must be opened again. */
  ensureLoggedIn: (page: Page, openedInGeneration: number) => Promise<boolean>;
  /** Counts completed logins, so a page knows whether its session is older than the newest. */
  generation: () => number;
  maxPages: number;
}

async function crawlFrom(page: Page, startUrl: string, options: CrawlOptions): Promise<BrowserPage[]> {
  const { spec, run } = options;
  const pages: BrowserPage[] = [];
  const seen = new Set<string>();
  for (let url: string | undefined = startUrl; url;) {
    if (pages.length >= options.maxPages || seen.has(url)) break;
    seen.add(url);
    const captured: Promise<{ url: string; body: Buffer; contentType: string } | undefined>[] = [];
    const onResponse = (response: Response) => {
      if (!spec.extract.jsonUrlIncludes || !response.url().includes(spec.extract.jsonUrlIncludes)) return;
      captured.push(
        response
          .body()
          .then((body) => ({
            url: response.url(),
            body,
            contentType: response.headers()["content-type"] ?? "",
          }))
          .catch(() => undefined),
      );
    };
    page.on("response", onResponse);
    try {
      const generation = options.generation();
      await navigate(page, url, options);
      if (await options.ensureLoggedIn(page, generation)) {
        captured.length = 0;
        await navigate(page, url, options);
      }
      const rows = await extractTable(page, spec, run);
      const json: unknown[] = [];
      for (const item of captured) {
        const response = await item;
        if (!response) continue;
        json.push(await landJson(page, response, run));
      }
      if (spec.extract.jsonUrlIncludes && json.length === 0) {
        const keys = await snapshotPage(run, page);
        throw new SourceError(
          `${page.url()} fetched no response whose URL contains '${spec.extract.jsonUrlIncludes}'${snapshotNote(keys)}`,
        );
      }
      pages.push({ url: page.url(), rows, json });
      url = spec.nextPage ? await nextUrl(page, spec.nextPage) : undefined;
    } finally {
      page.off("response", onResponse);
    }
  }
  return pages;
}

async function navigate(page: Page, url: string, options: CrawlOptions): Promise<void> {
  const policy = options.spec.retry ?? DEFAULT_RETRY;
  await withRetry(
    () =>
      options.limiter.schedule(url, async () => {
        let response: Response | null;
        try {
          response = await page.goto(url, { waitUntil: "load" });
        } catch (error) {
          throw new TransientError(`opening ${url}: ${(error as Error).message.split("\n")[0]}`, {
            cause: error,
          });
        }
        const status = response?.status() ?? 200;
        if (status === 429 || status >= 500) {
          throw new TransientError(`opening ${url}: HTTP ${status}`, {
            retryAfterMs: parseRetryAfter(await response?.headerValue("retry-after")),
          });
        }
        if (status >= 400) {
          const keys = await snapshotPage(options.run, page);
          throw new SourceError(`opening ${url} answered HTTP ${status}${snapshotNote(keys)}`);
        }
      }),
    {
      what: `opening ${url}`,
      policy,
      onRetry: ({ attempt, delayMs, error }) =>
        options.run.logger.warn(
          { url, attempt: attempt + 1, delayMs, reason: error.message },
          "retrying page",
        ),
    },
  );
}

async function extractTable(
  page: Page,
  spec: BrowserSourceSpec,
  run: Run,
): Promise<Record<string, string>[]> {
  const selector = spec.extract.table;
  try {
    const timeout = spec.extract.timeoutMs ?? 5_000;
    if (spec.extract.waitFor) await page.waitForSelector(spec.extract.waitFor, { timeout });
    if (!selector) return [];
    await page.waitForSelector(selector, { timeout });
  } catch {
    const keys = await snapshotPage(run, page);
    const what = spec.extract.waitFor && !selector ? spec.extract.waitFor : (selector ?? "");
    throw new SourceError(
      `extracting ${page.url()}: the selector '${what}' finds nothing (the page layout changed, or the site ` +
        `showed an error page)${snapshotNote(keys)}`,
    );
  }
  return page.locator(selector).first().evaluate(readTable);
}

// Runs in the page. Built from source text because TypeScript runners (tsx, esbuild with
// keepNames) inject helper calls into compiled functions, and those helpers do not exist there.
const readTable = new Function(
  "table",
  `const clean = (text) => (text || "").replace(/\\s+/g, " ").trim();
  const header = table.querySelector("thead tr") || table.querySelector("tr");
  const names = Array.from(header ? header.querySelectorAll("th, td") : []).map(
    (cell, i) => clean(cell.textContent) || "column_" + (i + 1));
  return Array.from(table.querySelectorAll("tr"))
    .filter((row) => row !== header && row.querySelector("td"))
    .map((row) => {
      const cells = Array.from(row.querySelectorAll("td"));
      return Object.fromEntries(names.map((name, i) => [name, clean(cells[i] ? cells[i].textContent : "")]));
    });`,
) as (table: Element) => Record<string, string>[];

async function landJson(
  page: Page,
  response: { url: string; body: Buffer; contentType: string },
  run: Run,
): Promise<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString("utf8"));
  } catch (error) {
    const key = await run.snapshot({
      origin: response.url,
      data: response.body,
      extension: "txt",
      contentType: response.contentType || "text/plain",
    });
    const keys = await snapshotPage(run, page);
    throw new SourceError(
      `the page fetched ${response.url}, which is not valid JSON (${(error as Error).message}); ` +
        `the response is saved as snapshot ${key}${snapshotNote(keys)}`,
      { cause: error },
    );
  }
  await run.land({
    origin: response.url,
    data: response.body,
    extension: "json",
    contentType: "application/json",
  });
  return parsed;
}

async function nextUrl(page: Page, selector: string): Promise<string | undefined> {
  const next = page.locator(selector).first();
  if ((await next.count()) === 0) return undefined;
  const href = await next.getAttribute("href");
  return href ? new URL(href, page.url()).href : undefined;
}

/** Runs `work` over `items` with at most `limit` at once, keeping the input order. */
async function mapPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
