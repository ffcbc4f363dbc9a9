/** Failure evidence from a browser page: a full-page screenshot and the rendered HTML, landed. */
import type { Page } from "playwright-core";
import type { Run } from "./runs.ts";

/** Lands what the page shows now and returns the landing keys (empty if the page is gone). */
export async function snapshotPage(run: Run, page: Page): Promise<string[]> {
  const keys: string[] = [];
  const origin = page.url();
  try {
    const png = await page.screenshot({ fullPage: true, timeout: 10_000 });
    keys.push(await run.snapshot({ origin, data: png, extension: "png", contentType: "image/png" }));
  } catch {
    // A crashed or closed page has no screenshot; the HTML may still be there.
  }
  try {
    const html = Buffer.from(await page.content(), "utf8");
    keys.push(
      await run.snapshot({ origin, data: html, extension: "html", contentType: "text/html; charset=utf-8" }),
    );
  } catch {
    // Nothing more to save.
  }
  return keys;
}

export function snapshotNote(keys: string[]): string {
  return keys.length > 0 ? `; snapshot saved to ${keys.join(" and ")}` : "; no snapshot could be taken";
}
