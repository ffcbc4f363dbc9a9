// Browser source demo: Chromium renders a loopback page whose script fetches JSON and draws a
// table; the table and the JSON response are captured and landed. Without Chromium the page
// says so instead of failing the build.
import {
  configFromEnv,
  createLake,
  launchChromium,
  runBrowserSource,
  sampleSourcesDir,
  startSampleSite,
} from "lakebook";

// The sample sources change rarely; rebuilds within the hour reuse what they fetched.
export const maxAge = "1h";

const config = configFromEnv();
const browser = await launchChromium().catch((error: Error) => error);
if (browser instanceof Error) {
  process.stdout.write(JSON.stringify({ status: "not configured", message: browser.message, rows: [] }));
} else {
  const site = await startSampleSite(sampleSourcesDir(config.root));
  try {
    const result = await runBrowserSource(
      { lake: createLake(config), browser },
      {
        source: "demo_browser_latest",
        urls: [`${site.origin}/live.html`],
        extract: { table: "#latest", jsonUrlIncludes: "/api/readings" },
      },
    );
    const [page] = result.pages;
    process.stdout.write(
      JSON.stringify({ status: "ok", rows: page?.rows ?? [], json: page?.json ?? [], run: result.run }),
    );
  } finally {
    await browser.close();
    await site.close();
  }
}
