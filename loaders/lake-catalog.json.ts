// The lake catalog for the Catalog page: every dataset of raw, staging and curated with its
// versions (live and archived), schema, rows, bytes and lineage back to the landing files.
// The demo pipelines run first (idempotent), so the page never depends on which loader
// Framework happens to run first.
import { configFromEnv } from "../src/config.ts";
import { refreshDemoData } from "../src/demo/refresh.ts";
import { buildCatalog, createLake } from "../src/lake/index.ts";

const lake = createLake(configFromEnv());
await refreshDemoData(lake);
process.stdout.write(JSON.stringify({ datasets: await buildCatalog(lake.storage) }));
