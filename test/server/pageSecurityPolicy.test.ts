/**
 * The page Content-Security-Policy checked where it matters: in Chromium. A page shaped like
 * Framework's output (an inline module script importing the client, an inline classic script)
 * must run under the policy, together with what the explorer needs (WebAssembly, a blob worker
 * importing a same-origin script, range reads from /lake), while a script injected at run time
 * is blocked.
 */
import type { Browser } from "playwright-core";
import { launchChromium } from "../../src/sources/index.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.ts";
import { BUILD_1, createFixture, listen, type Fixture } from "./fixture.ts";

const MODULE_SCRIPT = `
import {define} from "./_observablehq/client.csp123.js";
define("module");
const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
WebAssembly.compile(wasm).then(() => define("wasm"), () => define("wasm-blocked"));
const source = \`importScripts(\${JSON.stringify(location.origin + "/_observablehq/worker.csp123.js")});\`;
const worker = new Worker(URL.createObjectURL(new Blob([source], {type: "text/javascript"})));
worker.onmessage = (event) => define(event.data);
worker.onerror = () => define("worker-blocked");
fetch("/lake/curated/sales/data.parquet", {headers: {Range: "bytes=-4"}})
  .then(async (response) => define(response.status + ":" + (await response.text())));
const injected = document.createElement("script");
injected.textContent = "document.body.dataset.injected = 'ran';";
document.head.append(injected);
`;

const PAGE = `<!DOCTYPE html>
<html>
<head>
<title>CSP</title>
<script>window.violations = []; addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective));</script>
<script type="module">${MODULE_SCRIPT}</script>
</head>
<body>
<h1 style="color: rgb(1, 2, 3)">CSP</h1>
<script>document.body.dataset.classic = "ran";</script>
</body>
</html>
`;

let fixture: Fixture;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write(`site/builds/${BUILD_1}/csp.html`, PAGE);
  await fixture.write(
    `site/builds/${BUILD_1}/_observablehq/client.csp123.js`,
    "export function define(name) { document.body.dataset[name.replace(/\\W/g, '_')] = 'yes'; }\n",
  );
  await fixture.write(`site/builds/${BUILD_1}/_observablehq/worker.csp123.js`, 'postMessage("worker");\n');
  server = await listen(fixture.config);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fixture?.cleanup();
});

describe("page Content-Security-Policy in Chromium", () => {
  it("runs the build's inline scripts, WebAssembly, a blob worker and lake reads, and blocks injected script", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(server.url + "/csp");
      await page.waitForFunction(
        () =>
          ["module", "wasm", "worker", "206:PAR1"].every(
            (key) => key.replace(/\W/g, "_") in document.body.dataset,
          ),
        undefined,
        { timeout: 10_000 },
      );
      const result = await page.evaluate(() => ({
        data: { ...document.body.dataset },
        violations: (window as unknown as { violations: string[] }).violations,
        headingColor: getComputedStyle(document.querySelector("h1")!).color,
      }));
      expect(result.data).toMatchObject({
        classic: "ran",
        module: "yes",
        wasm: "yes",
        worker: "yes",
        "206_PAR1": "yes",
      });
      expect(result.data.injected).toBeUndefined();
      expect(result.violations).toEqual(["script-src-elem"]);
      expect(result.headingColor).toBe("rgb(1, 2, 3)");
    } finally {
      await page.close();
    }
  });
});
