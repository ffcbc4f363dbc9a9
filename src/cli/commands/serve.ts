import { createLogger } from "../../logger.ts";
import { openRunQueue } from "../../queue/index.ts";
import { readFrameworkProject } from "../../site/index.ts";
import { openStore } from "../../store/index.ts";
import { startTracing } from "../../telemetry/index.ts";
import { startServer } from "../../../server/index.ts";
import { projectFromOptions, type ProjectOptions } from "../projectRoot.ts";
import { untilSignal } from "../signals.ts";

export async function serve(options: ProjectOptions): Promise<void> {
  const { config, project } = projectFromOptions(options);
  const logger = createLogger({ name: "lakebook-server" });
  if (project.kind === "framework") {
    // Another Framework project: its output folder, read-only, with no record store (and so no
    // users, runs or schedules) and nothing written into the project.
    const { outputDir } = await readFrameworkProject(project.root);
    const server = await startServer(config, { logger, staticSite: outputDir });
    console.log(`Lakebook is serving ${outputDir} at ${server.url}/ (build it with 'lakebook build')`);
    await untilSignal();
    await server.close();
    return;
  }
  const tracing = await startTracing("lakebook-server");
  const store = await openStore(config);
  let queue: Awaited<ReturnType<typeof openRunQueue>> | undefined;
  try {
    // With PostgreSQL this server only enqueues runs: `lakebook worker` processes execute them.
    queue = await openRunQueue(config, logger);
    const server = await startServer(config, { logger, store, queue });
    const users = await store.countUsers();
    const access = config.publicMode
      ? "public: anyone may read, sign in to change anything"
      : users > 0
        ? `private: ${users} user${users === 1 ? "" : "s"} may sign in at ${server.url}/auth/login`
        : "open: no users yet, anyone may read; 'lakebook user add <name> --role admin' turns access control on";
    console.log(`Lakebook is serving ${config.siteDir} and the curated lake at ${server.url}/`);
    console.log(`access: ${access}; runs: ${server.url}/runs; store: ${store.kind}; queue: ${queue.kind}`);
    if (!queue.local) console.log("runs execute on workers: start one or more with 'lakebook worker'");
    await untilSignal();
    console.log("shutting down: finishing requests and running jobs");
    await server.close();
  } finally {
    await queue?.close();
    await store.close();
    await tracing.shutdown();
  }
}
