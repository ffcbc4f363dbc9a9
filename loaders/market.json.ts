// Market overview data: runs the (idempotent) demo pipeline, then emits the curated prices
// snapshot with the version it came from.
import { configFromEnv } from "../src/config.ts";
import { runMarketPipeline } from "../src/demo/marketPipeline.ts";
import { createLake } from "../src/lake/index.ts";
import { readSnapshot } from "../src/pipeline/index.ts";

const lake = createLake(configFromEnv());
await runMarketPipeline(lake);
process.stdout.write(JSON.stringify(await readSnapshot(lake, "curated", "prices")));
