// The curated datasets the explorer can query, with the lake URLs of their current files.
import { configFromEnv } from "../src/config.ts";
import { createLake, listHeads } from "../src/lake/index.ts";
import { describeVersion } from "../src/pipeline/index.ts";

const lake = createLake(configFromEnv());
const heads = await listHeads(lake.storage, "curated");
process.stdout.write(JSON.stringify({ datasets: heads.map(describeVersion) }));
