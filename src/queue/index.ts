export type { Delivery, GivenUpHandler, QueueDepth, QueuedRun, RunHandler, RunQueue } from "./queue.ts";
export { QUEUED_LEASE_MS } from "./queue.ts";
export { createInProcessQueue } from "./inProcessQueue.ts";
export { createPgBossQueue, GIVEN_UP_QUEUE, RUNS_QUEUE, type PgBossQueueOptions } from "./pgBossQueue.ts";
export { openRunQueue, queueSettingsFromEnv, type QueueSettings } from "./openRunQueue.ts";
