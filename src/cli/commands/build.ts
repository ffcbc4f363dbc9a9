import { configFromEnv } from "../../config.ts";
import { createLogger } from "../../logger.ts";
import { buildSite } from "../../site/index.ts";

export async function build(): Promise<void> {
  const config = configFromEnv();
  const result = await buildSite(config, { logger: createLogger({ name: "lakebook-build" }) });
  console.log(
    `published build ${result.buildId} in ${(result.durationMs / 1000).toFixed(1)} s: ${result.dir}`,
  );
}
