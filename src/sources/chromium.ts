/**
 * Launching Chromium for the browser source: Debian's /usr/bin/chromium through playwright-core,
 * headless, with background services off so a run makes no request but the scraper's own.
 * playwright-core is imported on first use.
 */
import type { Browser } from "playwright-core";
import { SourceError } from "../errors.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Starts headless Chromium with CHROMIUM_ARGS, then `extraArgs` (e.g. host resolver rules). */
export async function launchChromium(
  options: { executablePath?: string; extraArgs?: readonly string[] } = {},
): Promise<Browser> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  const { chromium } = await import("playwright-core");
  try {
    return await chromium.launch({
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
    });
  } catch (error) {
    throw new SourceError(
      `cannot start Chromium at ${executablePath}: ${(error as Error).message.split("\n")[0]}; ` +
        `install it (apt-get install chromium) or pass executablePath`,
      { cause: error },
    );
  }
}
