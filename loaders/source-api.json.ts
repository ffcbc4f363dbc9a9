// JSON API source demo: the bundled readings, paged by cursor with ETags on a loopback server;
// a rebuild with unchanged data gets 304s and lands nothing new.
import { configFromEnv, createLake, runApiSource, sampleSourcesDir, startSampleSite } from "lakebook";

// The sample sources change rarely; rebuilds within the hour reuse what they fetched.
export const maxAge = "1h";

const config = configFromEnv();
const site = await startSampleSite(sampleSourcesDir(config.root));
try {
  const result = await runApiSource(
    { lake: createLake(config) },
    {
      source: "demo_api_readings",
      url: `${site.origin}/api/readings`,
      itemsPath: "data",
      pagination: { kind: "cursor", param: "cursor", nextCursorPath: "next_cursor" },
    },
  );
  const { items, pages, notModified, run } = result;
  process.stdout.write(JSON.stringify({ status: "ok", pages, notModified, rows: items, run }));
} finally {
  await site.close();
}
