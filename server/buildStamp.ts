/**
 * The build stamp every published page carries: build time, build id and the curated dataset
 * versions the build was made from, inserted before `</body>` as plain HTML (no script, so the
 * page's Content-Security-Policy is unchanged). The same data is at `/api/builds/current`.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { Store } from "../src/store/index.ts";
import { buildTime } from "./api/routes.ts";
import { escapeHtml } from "./pages/html.ts";

export type StampTransform = { readonly tag: string; apply(content: Buffer): Buffer };

/** Returns the stamp for the build folder a page is served from (cached a few seconds per build). */
export function createBuildStamp(
  store: Store | undefined,
  ttlMs = 5000,
): (buildDir: string) => Promise<StampTransform> {
  const cache = new Map<string, { value: StampTransform; until: number }>();
  return async (buildDir) => {
    const id = basename(buildDir);
    const cached = cache.get(id);
    if (cached && cached.until > Date.now()) return cached.value;
    const record = await store?.maybeBuild(id).catch(() => undefined);
    const time = buildTime(id, record?.finishedAt ?? null)
      .slice(0, 16)
      .replace("T", " ");
    const versions = Object.entries(record?.dataVersions ?? {})
      .map(([dataset, version]) => `${dataset} v${version}`)
      .join(", ");
    const html =
      `<div id="lakebook-build" style="font:12px/1.4 system-ui,sans-serif;color:#6b7280;padding:.5rem 1rem;text-align:right">` +
      `Built ${escapeHtml(time)} UTC · build ${escapeHtml(id)}${versions ? ` · data: ${escapeHtml(versions)}` : ""}</div>`;
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
}
