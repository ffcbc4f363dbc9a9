/**
 * The build stamp every published page carries: build time, build id and the curated dataset
 * versions the build was made from, inserted before `</body>` as plain HTML (no script, so the
 * page's Content-Security-Policy is unchanged). Each data version links to that version's catalog
 * entry (`/catalog/curated/<dataset>?version=<n>`, pages/catalogEntryPage.ts). The same data is at `/api/builds/current`.
 * While the store cannot answer, pages keep the stamp they had.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { BuildRecord, Store } from "../src/store/index.ts";
import { buildTime } from "./api/routes.ts";
import { escapeHtml } from "./pages/html.ts";
import { catalogEntryHref } from "./pages/catalogEntryPage.ts";

export type StampTransform = { readonly tag: string; apply(content: Buffer): Buffer };

export interface BuildStamps {
  /** The stamp for the build folder a page is served from (cached a few seconds per build). */
  of(buildDir: string): Promise<StampTransform>;
  /** `of` from memory alone: undefined when the stamp must be (re)read from the store. */
  now(buildDir: string): StampTransform | undefined;
}

export function createBuildStamp(store: Store | undefined, ttlMs = 5000): BuildStamps {
  const cache = new Map<string, { value: StampTransform; until: number }>();
  const now = (buildDir: string): StampTransform | undefined => {
    const cached = cache.get(basename(buildDir));
    return cached && cached.until > Date.now() ? cached.value : undefined;
  };
  const of = async (buildDir: string): Promise<StampTransform> => {
    const known = now(buildDir);
    if (known) return known;
    const id = basename(buildDir);
    let record: BuildRecord | undefined;
    try {
      record = await store?.maybeBuild(id);
    } catch {
      // The store is down: keep the stamp pages carried (its versions), else stamp without them.
      const previous = cache.get(id);
      if (previous) {
        cache.set(id, { value: previous.value, until: Date.now() + ttlMs });
        return previous.value;
      }
    }
    const time = buildTime(id, record?.finishedAt ?? null)
      .slice(0, 16)
      .replace("T", " ");
    // Each version links to its catalog entry (schema, quality, runs, lineage, model, Explorer).
    const versions = Object.entries(record?.dataVersions ?? {})
      .map(
        ([dataset, version]) =>
          `<a href="${escapeHtml(catalogEntryHref("curated", dataset, version))}" style="color:inherit">${escapeHtml(dataset)} v${version}</a>`,
      )
      .join(", ");
    const html =
      `<div id="lakebook-build" style="font:12px/1.4 system-ui,sans-serif;color:#6b7280;padding:.5rem 1rem;text-align:right">` +
      `Built ${escapeHtml(time)} UTC · build ${escapeHtml(id)}${versions ? ` · data: ${versions}` : ""}</div>`;
    const snippet = Buffer.from(html);
    const value: StampTransform = {
      tag: createHash("sha256").update(html).digest("hex").slice(0, 8),
      apply(content) {
        const at = content.lastIndexOf("</body>");
        return at === -1 ? content : Buffer.concat([content.subarray(0, at), snippet, content.subarray(at)]);
      },
    };
    if (cache.size > 100) cache.clear();
    cache.set(id, { value, until: Date.now() + ttlMs });
    return value;
  };
  return { of, now };
}
