/** The server's public API: build the Express app, or start it listening. */
export { createApp, servicesOf, type AppServices, type ServerEffects } from "./app.ts";
export { publishBuild, rollback, curatedVersions } from "../src/site/index.ts";
export { startServer, type RunningServer, type StartOptions } from "./startServer.ts";
export { startPreview } from "./preview.ts";
export { createRunner, HandBackError, type Runner, type RunnerOptions } from "./runs/runner.ts";
