import { describe, expect, it } from "vitest";
import { scanCss, scanHtml, scanJavaScript } from "../../src/site/offOrigin.ts";

const urls = (found: readonly { url: string }[]) => found.map((f) => f.url);

describe("off-origin reference scan", () => {
  it("finds scripts, stylesheets, preconnects and images in HTML but not plain links", () => {
    const html = `<!DOCTYPE html><html><head>
      <link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
      <link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=X">
      <link rel="canonical" href="https://lakebook.example/page">
      <script src="//cdn.example.com/lib.js"></script>
      </head><body>
      <a href="https://observablehq.com/">Observable</a>
      <img srcset="local.png 1x, https://img.example.com/a.png 2x">
      <img src="./_file/local.png">
      </body></html>`;
    expect(urls(scanHtml("page.html", html))).toEqual([
      "https://fonts.gstatic.com",
      "https://fonts.googleapis.com/css2?family=X",
      "//cdn.example.com/lib.js",
      "https://img.example.com/a.png",
    ]);
  });

  it("reads inline module scripts and styles", () => {
    const html = `<script type="module">import * as x from "https://cdn.jsdelivr.net/npm/x/+esm";</script>
      <script type="application/json">{"u": "https://data.example.com"}</script>
      <style>/* url(https://comment.example.com) */ body { background: url("https://bg.example.com/a.png"); }</style>
      <div style="background: url(https://inline.example.com/b.png)"></div>`;
    expect(urls(scanHtml("page.html", html))).toEqual([
      "https://cdn.jsdelivr.net/npm/x/+esm",
      "https://bg.example.com/a.png",
      "https://inline.example.com/b.png",
    ]);
  });

  it("finds request-making JavaScript and ignores URLs in comments, messages and links", () => {
    const js = `
      /*! licence: https://opensource.org/licenses/MIT */
      import a from "https://esm.sh/a";
      export * from "https://esm.sh/b";
      const c = await import("https://esm.sh/c");
      fetch(\`https://api.example.com/\${path}\`);
      importScripts("https://cdn.example.com/worker.js");
      new Worker("https://cdn.example.com/w.js");
      script.src = "https://cdn.example.com/s.js";
      const r = import.meta.resolve("https://cdn.example.com/r.wasm");
      throw new Error("see https://docs.example.com/errors for help");
      const link = "https://example.com/not-a-request";
      fetch("./local.json");
    `;
    expect(urls(scanJavaScript("a.js", js))).toEqual([
      "https://esm.sh/a",
      "https://esm.sh/b",
      "https://esm.sh/c",
      "https://api.example.com/…",
      "https://cdn.example.com/worker.js",
      "https://cdn.example.com/w.js",
      "https://cdn.example.com/s.js",
      "https://cdn.example.com/r.wasm",
    ]);
  });

  it("reports JavaScript it cannot parse instead of passing it", () => {
    expect(scanJavaScript("broken.js", "import {")).toMatchObject([
      { file: "broken.js", url: "(unparsable)" },
    ]);
  });

  it("finds CSS imports and urls but not data URLs", () => {
    const css = `@import url("https://fonts.googleapis.com/css2?family=X");
      @import "//cdn.example.com/x.css";
      @font-face { src: url(data:font/woff2;base64,AAAA) format("woff2"); }
      .a { background: url('https://img.example.com/a.png'); }`;
    expect(urls(scanCss("a.css", css))).toEqual([
      "https://fonts.googleapis.com/css2?family=X",
      "//cdn.example.com/x.css",
      "https://img.example.com/a.png",
    ]);
  });
});
