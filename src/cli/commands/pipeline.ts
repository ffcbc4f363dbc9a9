import { configFromEnv } from "../../config.ts";
import { runMarketPipeline } from "../../demo/marketPipeline.ts";
import { createLake } from "../../lake/index.ts";

export async function pipeline(): Promise<void> {
  const config = configFromEnv();
  const result = await runMarketPipeline(createLake(config));
  const { curated } = result;
  const changed = Object.entries(result.created)
    .filter(([, created]) => created)
    .map(([step]) => step);
  console.log(
    `curated/prices v${curated.version}: ${curated.rowCount} rows, ${curated.bytes} bytes` +
      (changed.length > 0 ? ` (new: ${changed.join(", ")})` : " (unchanged)"),
  );
}
