/**
 * The embedded mode's queue: a FIFO in this process. Unbounded concurrency by default, so a run
 * starts the moment it is enqueued, which is what the server always did before there were workers.
 */
import type { Logger } from "../logger.ts";
import type { QueuedRun, RunHandler, RunQueue } from "./queue.ts";

export function createInProcessQueue(options: { logger?: Logger } = {}): RunQueue {
  const waiting: QueuedRun[] = [];
  const inFlight = new Set<Promise<void>>();
  let handler: RunHandler | undefined;
  let concurrency = Number.POSITIVE_INFINITY;
  let stopped = false;

  const pump = (): void => {
    while (handler && !stopped && inFlight.size < concurrency && waiting.length > 0) {
      const message = waiting.shift()!;
      const done: Promise<void> = handler(message, { retry: 0 })
        .catch((error: unknown) => options.logger?.error({ err: error, runId: message.runId }, "run failed"))
        .finally(() => {
          inFlight.delete(done);
          pump();
        });
      inFlight.add(done);
    }
  };

  return {
    kind: "in-process",
    local: true,
    enqueue(message) {
      waiting.push(message);
      pump();
      return Promise.resolve();
    },
    work(next, workOptions) {
      handler = next;
      concurrency = Math.max(1, workOptions.concurrency);
      stopped = false;
      pump();
      return Promise.resolve();
    },
    async stopWorking() {
      stopped = true;
      await Promise.all([...inFlight]);
    },
    depth: () => Promise.resolve({ queued: waiting.length, active: inFlight.size }),
    async close() {
      stopped = true;
      waiting.length = 0;
      await Promise.all([...inFlight]);
    },
  };
}
