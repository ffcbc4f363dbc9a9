import { configFromEnv } from "../../config.ts";
import { createLogger } from "../../logger.ts";
import { isLakebookError } from "../../errors.ts";
import { formatProgress, type BuildProgress } from "../../site/index.ts";
import { openStore } from "../../store/index.ts";
import { publishBuild } from "../../site/index.ts";

export interface BuildCommandOptions {
  strict?: boolean;
  json?: boolean;
  /** `true`: rerun every loader; names: rerun those whatever the cache says. */
  refresh?: true | string[];
}

export async function build(options: BuildCommandOptions = {}): Promise<void> {
  // Loaders run as child processes and inherit the environment: LAKEBOOK_STRICT=1 makes a loader
  // reading a dataset whose newest data failed its quality checks fail instead of falling back.
  if (options.strict) process.env.LAKEBOOK_STRICT = "1";
  const config = configFromEnv();
  // Recorded in the store (with the data versions it was built from) unless a running server holds
  // the embedded store; a failed build is recorded too and leaves the live site unchanged.
  const store = await openStore(config).catch((error: unknown) => {
    if (isLakebookError(error) && error.code === "STORE_LOCKED") {
      console.error(
        `note: ${error.message}; this build is not recorded (trigger builds on the server: /runs)`,
      );
      return undefined;
    }
    throw error;
  });
  const print = (event: BuildProgress) =>
    console.log(options.json ? JSON.stringify({ event: event.kind, ...event }) : formatProgress(event));
  const result = await publishBuild(
    config,
    store,
    { logger: createLogger({ name: "lakebook-build" }), onProgress: print },
    { ...(options.refresh && { refresh: options.refresh }) },
  ).finally(() => store?.close());
  if (options.json) {
    const { buildId, dir, previous, durationMs, loaders } = result;
    console.log(JSON.stringify({ event: "published", buildId, dir, previous, durationMs, loaders }));
    return;
  }
  console.log(
    `published build ${result.buildId} in ${(result.durationMs / 1000).toFixed(1)} s: ${result.dir}`,
  );
}
