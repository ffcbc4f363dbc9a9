export type { Delivery, QueueDepth, QueuedRun, RunHandler, RunQueue } from "./queue.ts";
export { createInProcessQueue } from "./inProcessQueue.ts";
export { createPgBossQueue, RUNS_QUEUE, type PgBossQueueOptions } from "./pgBossQueue.ts";
export { openRunQueue, queueSettingsFromEnv, type QueueSettings } from "./openRunQueue.ts";
