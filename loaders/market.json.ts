// Market overview data: runs the (idempotent) demo pipeline, then emits the curated prices
// snapshot with the version it came from and its quality status. When newer data failed its
// quality gate, the snapshot is the last good version and `quality.warning` says so on the page;
// `lakebook build --strict` (LAKEBOOK_STRICT=1) fails the build instead.
import { configFromEnv } from "../src/config.ts";
import { refreshDemoData } from "../src/demo/refresh.ts";
import { createLake } from "../src/lake/index.ts";
import { readCheckedSnapshot } from "../src/quality/index.ts";

const lake = createLake(configFromEnv());
// A blocked promotion keeps the previous version current; readCheckedSnapshot reports it.
await refreshDemoData(lake);
const { snapshot, quality } = await readCheckedSnapshot(lake, "curated", "prices", {
  strict: process.env.LAKEBOOK_STRICT === "1",
});
process.stdout.write(JSON.stringify({ ...snapshot, quality }));
