// HTML source demo: the bundled windows-1252 stations page, served on loopback, extracted with a
// declarative table selector and landed (robots.txt respected).
import { configFromEnv, createLake, runHtmlSource, sampleSourcesDir, startSampleSite } from "lakebook";

// The sample sources change rarely; rebuilds within the hour reuse what they fetched.
export const maxAge = "1h";

const config = configFromEnv();
const site = await startSampleSite(sampleSourcesDir(config.root));
try {
  const result = await runHtmlSource(
    { lake: createLake(config) },
    { source: "demo_html_stations", url: `${site.origin}/stations.html`, extract: { table: "#stations" } },
  );
  process.stdout.write(
    JSON.stringify({ status: "ok", encoding: result.encoding, rows: result.rows, run: result.run }),
  );
} finally {
  await site.close();
}
