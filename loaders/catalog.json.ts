// The curated datasets the explorer can query, with the lake URLs of their current files.
// The pipelines run first (idempotent: nothing is committed when their inputs are unchanged), so
// the catalog never depends on which loader Framework happens to run first.
import { configFromEnv } from "../src/config.ts";
import { refreshDemoData } from "../src/demo/refresh.ts";
import { createLake, listHeads } from "../src/lake/index.ts";
import { describeVersion } from "../src/pipeline/index.ts";

const lake = createLake(configFromEnv());
await refreshDemoData(lake);
const heads = await listHeads(lake.storage, "curated");
process.stdout.write(JSON.stringify({ datasets: heads.map(describeVersion) }));
