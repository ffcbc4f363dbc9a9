/**
 * Runs executing in other server processes, fed into this runner's live events, so the Runs page
 * and its event stream show every run of the store wherever it executes.
 *
 * - The store announces each run change and log line (LISTEN/NOTIFY on PostgreSQL, in process
 *   for PGlite). Announcements for runs executing here are skipped: the runner emits those.
 * - An announcement only names what changed; the feed reads the run record and the new log
 *   lines from the store, one run at a time, so a burst of lines costs one read and a run's
 *   events never go back to an older state. Each log line is emitted once, in order; for a run
 *   first heard of mid-way, from the announced line on (its earlier lines are at
 *   `/api/runs/{id}/logs`), like a stream that connects while a local run is going.
 * - While the store's listening connection is down, the feed polls every `pollMs` instead: the
 *   newest runs, whose records changed, and the new lines of unfinished ones. It logs when that
 *   starts and when announcements are back, then polls once more for what it missed.
 */
import type { Logger } from "../../src/logger.ts";
import type { Run, Store } from "../../src/store/index.ts";
import type { RunEvents } from "./runner.ts";

export interface RunFeed {
  /** Starts following (once); resolves when listening or, that failing, polling. */
  start(): Promise<void>;
  /** Stops following; waits for nothing but the listening connection's close. */
  close(): Promise<void>;
}

export interface RunFeedOptions {
  readonly store: Store;
  readonly events: RunEvents;
  /** Whether the run executes in this process (its events are emitted by the runner). */
  readonly isLocal: (runId: string) => boolean;
  readonly logger: Logger;
  /** How often to poll while announcements are down (default 1 s). */
  readonly pollMs?: number;
  readonly now?: () => number;
}

/** Runs and log positions remembered, newest kept. */
const MAX_TRACKED = 1000;
/** Log lines read at a time. */
const PAGE = 1000;
/** Runs a poll looks at, newest first. */
const RECENT_RUNS = 50;
/** Clocks of other machines may be a little off when judging what settled during an outage. */
const CLOCK_SLACK_MS = 5000;

interface Wanted {
  run: boolean;
  log: boolean;
  /** The first line announced, for a run whose lines were never read here. */
  fromSeq: number | null;
}

export function createRunFeed(options: RunFeedOptions): RunFeed {
  const { store, events, isLocal, logger } = options;
  const pollMs = options.pollMs ?? 1000;
  const now = options.now ?? Date.now;
  const pending = new Map<string, Wanted>();
  /** The last line emitted per run. */
  const lastSeq = new Map<string, number>();
  /** The last record emitted per run (JSON), for polls to see what changed. */
  const lastRun = new Map<string, string>();
  let started: Promise<void> | undefined;
  let unwatch: (() => Promise<void>) | undefined;
  let closed = false;
  let working = false;
  let scheduled = false;
  let poller: NodeJS.Timeout | undefined;
  let polling = false;
  /** When announcements went down (undefined while they flow). */
  let downSince: number | undefined;

  const want = (runId: string, change: Partial<Wanted>): void => {
    if (closed || isLocal(runId)) return;
    const wanted = pending.get(runId) ?? { run: false, log: false, fromSeq: null };
    wanted.run ||= change.run ?? false;
    wanted.log ||= change.log ?? false;
    if (change.fromSeq != null) wanted.fromSeq = Math.min(wanted.fromSeq ?? change.fromSeq, change.fromSeq);
    pending.set(runId, wanted);
    // After the current turn: a burst is read once, and a run this process just created (PGlite
    // announces during the INSERT) is known to be local by then.
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        work();
      });
    }
  };

  const work = (): void => {
    if (working || closed) return;
    working = true;
    void drainPending().finally(() => {
      working = false;
      if (pending.size > 0) work();
    });
  };

  const drainPending = async (): Promise<void> => {
    for (const [runId, wanted] of pending) {
      pending.delete(runId);
      if (closed) return;
      if (isLocal(runId)) continue;
      try {
        // Lines first: a run's final status comes after its last lines, as in the runner.
        if (wanted.log) await readLines(runId, wanted.fromSeq);
        if (wanted.run) {
          const run = await store.maybeRun(runId);
          // A run records its final status after its last line, but that line may have been
          // written after the lines above were read: read again, so the status comes last.
          if (run?.finishedAt && !closed) await readLines(runId, wanted.fromSeq);
          // Started here meanwhile (its creation was announced before `trigger` returned): the
          // runner's own, newer events win.
          if (run && !closed && !isLocal(runId)) emitRun(run);
        }
      } catch (error) {
        logger.warn(
          { err: error, runId },
          "a run on another server could not be read; it updates on its next change",
        );
      }
    }
  };

  const readLines = async (runId: string, fromSeq: number | null): Promise<void> => {
    let after = lastSeq.get(runId) ?? Math.max(0, (fromSeq ?? 1) - 1);
    for (;;) {
      const lines = await store.listRunLogs(runId, { afterSeq: after, limit: PAGE });
      for (const line of lines) {
        if (closed) return;
        events.emit("log", line);
        after = line.seq;
      }
      if (lines.length > 0) remember(lastSeq, runId, after);
      if (lines.length < PAGE) return;
    }
  };

  const emitRun = (run: Run): void => {
    remember(lastRun, run.id, JSON.stringify(run));
    events.emit("run", run);
  };

  /** Queues what changed among the newest runs; runs first seen settle after `since` count. */
  const poll = async (since: number): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      for (const run of await store.listRuns({ limit: RECENT_RUNS })) {
        if (isLocal(run.id)) continue;
        const seen = lastRun.get(run.id);
        const settledAt = run.finishedAt?.getTime();
        const changed =
          seen === undefined
            ? settledAt === undefined || settledAt >= since - CLOCK_SLACK_MS
            : seen !== JSON.stringify(run);
        if (changed || settledAt === undefined) want(run.id, { run: changed, log: true });
      }
    } finally {
      polling = false;
    }
  };
  const pollQuietly = (since: number): void => {
    void poll(since).catch((error: unknown) => logger.debug({ err: error }, "runs could not be polled"));
  };

  const onState = (state: "up" | "down", error?: Error): void => {
    if (closed) return;
    if (state === "down") {
      if (downSince !== undefined) return;
      downSince = now();
      logger.warn(
        { err: error, pollMs },
        "run announcements from other servers stopped: polling the store until they are back",
      );
      poller = setInterval(() => pollQuietly(downSince ?? now()), pollMs);
      poller.unref();
      return;
    }
    const since = downSince ?? now();
    downSince = undefined;
    clearInterval(poller);
    logger.info("run announcements from other servers are back");
    pollQuietly(since);
  };

  return {
    start() {
      started ??= (async () => {
        try {
          const stop = await store.watchRuns({
            onChange: (change) =>
              want(change.runId, change.kind === "log" ? { log: true, fromSeq: change.seq } : { run: true }),
            onState,
          });
          if (closed) await stop();
          else unwatch = stop;
        } catch (error) {
          onState("down", error instanceof Error ? error : new Error(String(error)));
        }
      })();
      return started;
    },
    async close() {
      closed = true;
      clearInterval(poller);
      pending.clear();
      await started;
      await unwatch?.();
    },
  };
}

/** Sets `key` as the newest entry, forgetting the oldest beyond MAX_TRACKED. */
function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED) map.delete(map.keys().next().value!);
}
