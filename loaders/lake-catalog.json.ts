// The lake catalog for the Catalog page: every dataset of raw, staging and curated with its
// versions (live and archived), schema, rows, bytes and lineage back to the landing files.
import { configFromEnv } from "../src/config.ts";
import { buildCatalog, createLake } from "../src/lake/index.ts";

const lake = createLake(configFromEnv());
process.stdout.write(JSON.stringify({ datasets: await buildCatalog(lake.storage) }));
