import { relative } from "node:path";
import { createLogger } from "../../logger.ts";
import { isLakebookError } from "../../errors.ts";
import { buildFrameworkProject, readFrameworkProject } from "../../site/index.ts";
import { openStore } from "../../store/index.ts";
import { formatProgress, publishBuild, type BuildProgress } from "../../site/index.ts";
import { projectFromOptions, type ProjectOptions } from "../projectRoot.ts";

export interface BuildCommandOptions extends ProjectOptions {
  strict?: boolean;
  json?: boolean;
  /** `true`: rerun every loader; names: rerun those whatever the cache says. */
  refresh?: true | string[];
}

export async function build(options: BuildCommandOptions = {}): Promise<void> {
  const { config, project } = projectFromOptions(options);
  if (project.kind === "framework") {
    // Another Framework project: an offline build into its own output, nothing else written.
    const framework = await readFrameworkProject(project.root);
    const result = await buildFrameworkProject(framework, {
      logger: createLogger({ name: "lakebook-build" }),
    });
    const near = relative(process.cwd(), result.dir);
    const shown = near === "" ? "." : near.startsWith("..") ? result.dir : near;
    console.log(
      `built ${framework.root} offline into ${shown} in ${(result.durationMs / 1000).toFixed(1)} s`,
    );
    return;
  }
  // Loaders run as child processes and inherit the environment: LAKEBOOK_STRICT=1 makes a loader
  // reading a dataset whose newest data failed its quality checks fail instead of falling back.
  if (options.strict) process.env.LAKEBOOK_STRICT = "1";
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
