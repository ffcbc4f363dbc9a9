import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addPreloads, frontMatterPreloads, PRELOAD_MAX_BYTES, preloadTags } from "../../src/site/preload.ts";

const PAGE = `<!DOCTYPE html>
<meta charset="utf-8">
<title>Prices</title>
<link rel="modulepreload" href="./_observablehq/client.abc.js">
<script type="module">
registerFile("./data/market.json", {"name":"./data/market.json","mimeType":"application/json","path":"./_file/data/market.1a2b3c4d.json","lastModified":1,"size":5120});
registerFile("./data/editor.js", {"name":"./data/editor.js","mimeType":"text/javascript","path":"./_file/data/editor.5e6f7a8b.js","lastModified":1,"size":400000});
registerFile("./data/all.parquet", {"name":"./data/all.parquet","mimeType":null,"path":"./_file/data/all.9c0d1e2f.parquet","lastModified":1,"size":${PRELOAD_MAX_BYTES + 1}});
</script>`;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("data preloads in built pages", () => {
  it("preloads registered data as fetch, bundles as modules, and not the files above the size limit", () => {
    expect(preloadTags(PAGE, ["/api/explorer/datasets"])).toEqual([
      '<link rel="preload" as="fetch" crossorigin href="/api/explorer/datasets">',
      '<link rel="preload" as="fetch" crossorigin href="./_file/data/market.1a2b3c4d.json">',
      '<link rel="modulepreload" href="./_file/data/editor.5e6f7a8b.js">',
    ]);
  });

  it("reads same-origin paths from the front matter and refuses other URLs with what to write", () => {
    expect(frontMatterPreloads("---\npreload: [/api/a, /b]\n---\n# x", "p.md")).toEqual(["/api/a", "/b"]);
    expect(frontMatterPreloads("# no front matter", "p.md")).toEqual([]);
    expect(() => frontMatterPreloads("---\npreload: https://cdn.example/x.json\n---\n", "p.md")).toThrow(
      /p\.md: front matter 'preload' must list paths on this site starting with '\/'/,
    );
  });

  it("writes the tags into the head of each built page, before its module preloads", async () => {
    dir = await mkdtemp(join(tmpdir(), "lakebook-preload-"));
    await mkdir(join(dir, "notebooks"));
    await mkdir(join(dir, "build"));
    await writeFile(
      join(dir, "notebooks", "index.md"),
      "---\npreload: /api/explorer/datasets\n---\n# Prices\n",
    );
    await writeFile(join(dir, "notebooks", "plain.md"), "# Plain\n");
    await writeFile(join(dir, "build", "index.html"), PAGE);
    await writeFile(join(dir, "build", "plain.html"), "<title>Plain</title><p>no data</p>");
    expect(await addPreloads(join(dir, "notebooks"), join(dir, "build"))).toBe(3);
    const html = await readFile(join(dir, "build", "index.html"), "utf8");
    const preload = html.indexOf('href="./_file/data/market.1a2b3c4d.json"');
    expect(preload).toBeGreaterThan(html.indexOf("</title>"));
    expect(preload).toBeLessThan(html.indexOf('rel="modulepreload" href="./_observablehq/client.abc.js"'));
    expect(await readFile(join(dir, "build", "plain.html"), "utf8")).toBe(
      "<title>Plain</title><p>no data</p>",
    );
  });
});
