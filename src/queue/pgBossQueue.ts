/**
 * The PostgreSQL run queue, on pg-boss (see the README's "Deployment" for why pg-boss). One pg-boss
 * queue, `lakebook-runs`, in its own schema (`LAKEBOOK_QUEUE_SCHEMA`, default `lakebook_queue`):
 *
 * - a message is a run id; the run record in the store says what to do and fences who may write it;
 * - a worker holding a message heartbeats it every `heartbeatSeconds / 2`; a message not heard from
 *   for `heartbeatSeconds` (its worker was SIGKILLed, or lost the database for that long) is
 *   failed by pg-boss's monitor (every `monitorSeconds`) and delivered again, up to `retryLimit`
 *   times;
 * - a message whose retries are exhausted goes to a second queue, `lakebook-runs-given-up` (pg-boss's
 *   dead letter queue), which workers take too (`givenUp`): the run record is failed there and then,
 *   instead of waiting for its lease to run out;
 * - a worker that just took a message fetches the next one at once while the queue has messages
 *   ready (pg-boss's burst mode), and otherwise sleeps until a NOTIFY of a new message or its poll:
 *   a backlog queued before the workers started is drained at the workers' pace, not one message
 *   per poller per poll;
 * - connection errors are reported (`error` events, logged) and pg-boss retries on its pool, so a
 *   PostgreSQL restart pauses the queue instead of stopping the process.
 */
import { ConfigError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { QueueDepth, QueuedRun, RunHandler, RunQueue } from "./queue.ts";

export const RUNS_QUEUE = "lakebook-runs";
/** Where pg-boss moves a run message once its retries are exhausted. */
export const GIVEN_UP_QUEUE = "lakebook-runs-given-up";

export interface PgBossQueueOptions {
  readonly url: string;
  /** The PostgreSQL schema of the queue's tables (created on first start). */
  readonly schema: string;
  readonly logger: Logger;
  /** A held run not heartbeated for this long goes to another worker (>= 10, default 30). */
  readonly heartbeatSeconds?: number;
  /** How often expired leases are looked for (default 5). */
  readonly monitorSeconds?: number;
  /** Deliveries after the first, when workers die or hand runs back (default 5). */
  readonly retryLimit?: number;
  /** Idle poll of a worker when no notification arrives (default 2). */
  readonly pollingSeconds?: number;
}

export async function createPgBossQueue(options: PgBossQueueOptions): Promise<RunQueue> {
  const { PgBoss } = await import("pg-boss");
  const heartbeatSeconds = options.heartbeatSeconds ?? 30;
  if (!Number.isInteger(heartbeatSeconds) || heartbeatSeconds < 10) {
    throw new ConfigError(
      `LAKEBOOK_QUEUE_HEARTBEAT_SECONDS is ${heartbeatSeconds}: use a whole number of seconds, at least 10`,
    );
  }
  const { logger } = options;
  const boss = new PgBoss({
    connectionString: options.url,
    schema: options.schema,
    application_name: "lakebook queue",
    max: 4,
    useListenNotify: true,
    monitorIntervalSeconds: options.monitorSeconds ?? 5,
    superviseIntervalSeconds: options.monitorSeconds ?? 5,
    // The ready count that keeps busy workers fetching (burst) comes from this cache.
    queueCacheIntervalSeconds: Math.max(1, Math.ceil(options.monitorSeconds ?? 5)),
    persistWarnings: false,
  });
  boss.on("error", (error: Error) => logger.warn({ err: error }, "run queue: database error (retrying)"));
  boss.on("warning", (warning: { message: string }) =>
    logger.debug({ warning: warning.message }, "run queue warning"),
  );
  await boss.start();
  type QueueOptions = Parameters<typeof boss.createQueue>[1];
  // Retried for longer than a run's lease (60 s): a run whose worker just died is failed once it lapses.
  await boss.createQueue(GIVEN_UP_QUEUE, { retryLimit: 20, retryDelay: 10 } as QueueOptions);
  const retryLimit = options.retryLimit ?? 5;
  const runsQueue = { heartbeatSeconds, retryLimit, retryDelay: 0, deadLetter: GIVEN_UP_QUEUE };
  await boss.createQueue(RUNS_QUEUE, { ...runsQueue, notify: true } as QueueOptions);
  // A queue created by an earlier version keeps its settings: bring them up to date.
  await boss.updateQueue(RUNS_QUEUE, runsQueue as Parameters<typeof boss.updateQueue>[1]);
  let working = false;

  return {
    kind: "postgres",
    local: false,
    async enqueue(message) {
      const { run: _run, ...data } = message;
      // The lease bounds a held message's whole life too: past it pg-boss retries the message,
      // so it is the run's own limit (every attempt with its backoff) plus a margin.
      const expireInSeconds = Math.min(86_400, Math.ceil(message.maxDurationMs / 1000) + 60);
      await boss.send(RUNS_QUEUE, data, { expireInSeconds } as Parameters<typeof boss.send>[2]);
    },
    async work(handler: RunHandler, workOptions) {
      working = true;
      // A slot that took the last ready message is woken by no NOTIFY and no backlog: the poll is
      // what bounds its wait for the next one (a step enqueued by the run it just finished).
      const polling = {
        pollingIntervalSeconds: options.pollingSeconds ?? 2,
        notifyPollingIntervalSeconds: options.pollingSeconds ?? 2,
      };
      await boss.work<QueuedRun>(
        RUNS_QUEUE,
        {
          localConcurrency: Math.max(1, workOptions.concurrency),
          batchSize: 1,
          ...polling,
          // Fetch again right after a message while more are ready (see the module comment).
          burstWhenReadyExceeds: 1,
        } as Parameters<typeof boss.work>[1],
        async ([job]) => {
          if (!job) return;
          await handler(job.data, { retry: job.retryCount });
        },
      );
      const { givenUp } = workOptions;
      if (givenUp) {
        await boss.work<QueuedRun>(GIVEN_UP_QUEUE, { batchSize: 1, ...polling }, async ([job]) => {
          if (!job) return;
          await givenUp(job.data, { deliveries: retryLimit + 1 });
        });
      }
    },
    async stopWorking() {
      if (!working) return;
      working = false;
      await boss.offWork(RUNS_QUEUE, { wait: true });
      await boss.offWork(GIVEN_UP_QUEUE, { wait: true }).catch(() => undefined);
    },
    async depth(): Promise<QueueDepth> {
      const queue = await boss.getQueue(RUNS_QUEUE);
      return { queued: queue?.queuedCount ?? 0, active: queue?.activeCount ?? 0 };
    },
    async close() {
      await boss.stop({ graceful: true, close: true, timeout: 30_000 });
    },
  };
}
