/**
 * Prints published pages to PDF with Chromium (Debian's /usr/bin/chromium through
 * playwright-core, launched on first use and kept: one browser per server process).
 *
 * A render opens the page in a fresh browser context as the server serves it (same origin, same
 * Content-Security-Policy), refuses every request to another origin, waits until the network is
 * idle and Framework's cells have settled (no `<observablehq-loading>` placeholder left), adds a
 * print style that hides the sidebar, table of contents, account line and download buttons, and
 * prints A4. Renders run `concurrency` at a time (default 1) with at most `maxQueued` waiting;
 * each is cut after `timeoutMs`. Every failure is an HttpError 503 saying what happened, so the
 * page itself is never affected; a missing Chromium says to install it.
 */
import { access, constants } from "node:fs/promises";
import type { Browser, BrowserContext } from "playwright-core";
import { HttpError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { CHROMIUM_PATH, launchChromium } from "../../src/sources/index.ts";

export interface PdfRendererOptions {
  readonly executablePath?: string;
  /** Renders at once (default 1). */
  readonly concurrency?: number;
  /** Renders waiting for a slot before new ones are refused with 503 (default 8). */
  readonly maxQueued?: number;
  /** The longest a render may take, queueing excluded (default 60 s). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface RenderRequest {
  /** The page's absolute URL on this server. */
  readonly url: string;
  /** Headers Chromium sends with every request to the page's origin (the render ticket). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface PdfRenderer {
  render(request: RenderRequest): Promise<Buffer>;
  /** Renders started since the server started (cache hits are not renders). */
  readonly renders: number;
  close(): Promise<void>;
}

/** Printed pages hide what only makes sense on screen; the content column takes the full width. */
export const PRINT_STYLE = `
@media print {
  #observablehq-sidebar, #observablehq-sidebar-toggle, #observablehq-sidebar-backdrop,
  label[for="observablehq-sidebar-toggle"], #observablehq-toc, #observablehq-search,
  #lakebook-account, #lakebook-pdf, .lb-downloads, .observablehq-pre-copy { display: none !important; }
  #observablehq-center { margin: 0 !important; padding: 0 !important; max-width: none !important; }
  body { --observablehq-max-width: none; }
  .card, figure, table, svg { break-inside: avoid; }
}`;

/** A4's printable width at 96 px per inch with 10 mm margins: charts laid out for the paper. */
const PRINT_VIEWPORT = { width: 718, height: 1000 };

export function createPdfRenderer(options: PdfRendererOptions = {}): PdfRenderer {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  const concurrency = options.concurrency ?? 1;
  const maxQueued = options.maxQueued ?? 8;
  const timeoutMs = options.timeoutMs ?? 60_000;
  let browser: Promise<Browser> | undefined;
  let renders = 0;
  let running = 0;
  const waiting: (() => void)[] = [];

  const browserNow = (): Promise<Browser> => {
    browser ??= (async () => {
      try {
        await access(executablePath, constants.X_OK);
      } catch {
        throw new HttpError(
          503,
          `PDF snapshots need Chromium, which is not installed at ${executablePath}: ` +
            `install it (apt-get install chromium) and reload; the page itself works without it`,
        );
      }
      const launched = await launchChromium({ executablePath });
      launched.on("disconnected", () => {
        browser = undefined; // crashed or killed: the next render starts a new one
      });
      return launched;
    })().catch((error: unknown) => {
      browser = undefined;
      throw error instanceof HttpError
        ? error
        : new HttpError(503, `Chromium could not start for PDF snapshots: ${(error as Error).message}`, {
            cause: error,
          });
    });
    return browser;
  };

  const slot = async (): Promise<() => void> => {
    if (running >= concurrency) {
      if (waiting.length >= maxQueued)
        throw new HttpError(503, "too many PDF snapshots are being made: try again in a minute");
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    return () => {
      running--;
      waiting.shift()?.();
    };
  };

  const renderWithin = async (request: RenderRequest): Promise<Buffer> => {
    const origin = new URL(request.url).origin;
    const context = await (
      await browserNow()
    ).newContext({
      viewport: PRINT_VIEWPORT,
      extraHTTPHeaders: request.headers,
      acceptDownloads: false,
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new HttpError(
            503,
            `the PDF snapshot took longer than ${Math.round(timeoutMs / 1000)} s and was stopped: try again later`,
          ),
        );
        void context.close().catch(() => {});
      }, timeoutMs);
    });
    try {
      return await Promise.race([print(context, request.url, origin, timeoutMs), timedOut]);
    } finally {
      clearTimeout(timer);
      await context.close().catch(() => {});
    }
  };

  return {
    get renders() {
      return renders;
    },
    async render(request) {
      const release = await slot();
      try {
        renders++;
        return await renderWithin(request);
      } catch (error) {
        options.logger?.warn({ err: error, url: request.url }, "PDF snapshot failed");
        if (error instanceof HttpError) throw error;
        throw new HttpError(503, `the PDF snapshot failed: ${(error as Error).message.split("\n")[0]}`, {
          cause: error,
        });
      } finally {
        release();
      }
    },
    async close() {
      const open = browser;
      browser = undefined;
      await (await open?.catch(() => undefined))?.close().catch(() => {});
    },
  };
}

async function print(
  context: BrowserContext,
  url: string,
  origin: string,
  timeoutMs: number,
): Promise<Buffer> {
  // Nothing leaves the server's origin: the page is rendered from this build alone.
  await context.route("**/*", (route) => {
    const target = route.request().url();
    if (target.startsWith(`${origin}/`) || target.startsWith("data:") || target.startsWith("blob:"))
      return route.continue();
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const response = await page.goto(url, { waitUntil: "networkidle", timeout: timeoutMs });
  if (!response || response.status() !== 200) {
    throw new HttpError(503, `the page answered ${response?.status() ?? "nothing"} to the PDF renderer`);
  }
  // Framework replaces each cell's <observablehq-loading> once it displays; charts then draw.
  await page
    .waitForFunction(() => document.querySelector("observablehq-loading") === null, undefined, {
      timeout: Math.min(timeoutMs / 2, 20_000),
    })
    .catch(() => {}); // a cell that never settles is printed as it is
  await page.addStyleTag({ content: PRINT_STYLE });
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  });
  await page.waitForLoadState("networkidle");
  return await page.pdf({
    format: "A4",
    printBackground: true,
    margin: { top: "10mm", bottom: "12mm", left: "10mm", right: "10mm" },
  });
}
