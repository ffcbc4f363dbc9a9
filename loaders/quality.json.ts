// Data quality (Data Docs) data: for every dataset with validation runs, the newest run in full
// (results and sample failing rows) and the history of runs. The pipelines run first
// (idempotent), so the page never depends on which loader Framework runs first; a blocked
// promotion is what this page reports, so it does not fail the build.
import { configFromEnv } from "../src/config.ts";
import { refreshDemoData } from "../src/demo/refresh.ts";
import { createLake } from "../src/lake/index.ts";
import { qualityReport } from "../src/quality/index.ts";

const lake = createLake(configFromEnv());
await refreshDemoData(lake);
process.stdout.write(JSON.stringify(await qualityReport(lake)));
