/**
 * PDF snapshots on disk, one per build, page and kind of reader, under
 * `siteDir/pdf-cache/<buildId>/<key>.pdf`. A published build never changes, so a snapshot made
 * of it never goes stale; snapshots of builds that are no longer kept are removed when the next
 * one is written. Files are written to a temp name and renamed, so a crash never leaves half a
 * PDF under a snapshot's name. Concurrent requests for the same snapshot share one render.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

export const PDF_CACHE_DIR = "pdf-cache";

export interface PdfSnapshot {
  readonly bytes: Buffer;
  readonly etag: string;
  /** True when this request made it (a render), false when it came from the cache. */
  readonly rendered: boolean;
}

export interface PdfCache {
  /** The snapshot of `page` in `build` for readers of kind `view`, rendered by `render` when absent. */
  get(build: string, page: string, view: string, render: () => Promise<Buffer>): Promise<PdfSnapshot>;
}

export function createPdfCache(siteDir: string): PdfCache {
  const root = join(siteDir, PDF_CACHE_DIR);
  const inFlight = new Map<string, Promise<PdfSnapshot>>();

  const prune = async (keep: string): Promise<void> => {
    const cached = await readdir(root).catch(() => [] as string[]);
    for (const id of cached) {
      if (id === keep) continue;
      const kept = await stat(join(siteDir, "builds", id)).then(
        () => true,
        () => false,
      );
      if (!kept) await rm(join(root, id), { recursive: true, force: true });
    }
  };

  return {
    async get(build, page, view, render) {
      const id = basename(build);
      const key = createHash("sha256").update(`${page}\0${view}`).digest("hex").slice(0, 32);
      const file = join(root, id, `${key}.pdf`);
      const etag = `"pdf-${id}-${key.slice(0, 16)}"`;
      const cached = await readFile(file).catch(() => undefined);
      if (cached) return { bytes: cached, etag, rendered: false };
      const flightKey = `${id}/${key}`;
      let flight = inFlight.get(flightKey);
      if (!flight) {
        flight = (async () => {
          const bytes = await render();
          await mkdir(join(root, id), { recursive: true });
          const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
          await writeFile(temp, bytes);
          await rename(temp, file);
          await prune(id).catch(() => {});
          return { bytes, etag, rendered: true };
        })().finally(() => inFlight.delete(flightKey));
        inFlight.set(flightKey, flight);
        return flight;
      }
      // Joined another request's render: this request made nothing.
      return { ...(await flight), rendered: false };
    },
  };
}
