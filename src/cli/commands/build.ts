import { configFromEnv } from "../../config.ts";
import { createLogger } from "../../logger.ts";
import { buildSite } from "../../site/index.ts";

export async function build(options: { strict?: boolean } = {}): Promise<void> {
  // Loaders run as child processes and inherit the environment: LAKEBOOK_STRICT=1 makes a loader
  // reading a dataset whose newest data failed its quality checks fail instead of falling back.
  if (options.strict) process.env.LAKEBOOK_STRICT = "1";
  const config = configFromEnv();
  const result = await buildSite(config, { logger: createLogger({ name: "lakebook-build" }) });
  console.log(
    `published build ${result.buildId} in ${(result.durationMs / 1000).toFixed(1)} s: ${result.dir}`,
  );
}
