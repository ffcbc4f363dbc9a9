/**
 * Cron schedules from the store, fired in every server process. Each tick is identified by its
 * scheduled time (UTC, to the second); the run is created with a unique (schedule, tick) row, so
 * when several processes share one PostgreSQL exactly one of them runs each tick, the others skip.
 * Schedules are re-read every `syncMs` (and after API changes), so edits from another process or
 * the CLI apply without a restart.
 */
import { Cron } from "croner";
import { HttpError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { Run, Schedule, Store } from "../../src/store/index.ts";
import type { Runner } from "./runner.ts";

export interface Scheduler {
  /** Re-reads the schedules and (re)arms their timers. */
  sync(): Promise<void>;
  /** Claims and starts the run of `schedule` for the tick at or just before `firedAt`. */
  fire(schedule: Schedule, firedAt?: Date): Promise<Run | undefined>;
  stop(): void;
}

/** Throws a 400 with what to fix when `pattern` is not a valid cron pattern. */
export function checkCron(pattern: string): void {
  try {
    new Cron(pattern, { timezone: "UTC", paused: true }).stop();
  } catch (error) {
    throw new HttpError(
      400,
      `invalid cron pattern '${pattern}' (${(error as Error).message}): e.g. '0 3 * * *' for 03:00 UTC daily`,
      {
        cause: error,
      },
    );
  }
}

/** The scheduled time a timer that fired at `firedAt` stands for. */
export function scheduledTick(pattern: string, firedAt: Date): string {
  const probe = new Cron(pattern, { timezone: "UTC", paused: true });
  const tick = probe.previousRuns(1, new Date(firedAt.getTime() + 1000))[0] ?? firedAt;
  probe.stop();
  return new Date(Math.floor(tick.getTime() / 1000) * 1000).toISOString();
}

export function createScheduler(options: {
  store: Store;
  runner: Runner;
  logger: Logger;
  syncMs?: number;
}): Scheduler {
  const { store, runner, logger } = options;
  const timers = new Map<string, { cron: Cron; key: string }>();
  let stopped = false;

  const fire = async (schedule: Schedule, firedAt = new Date()): Promise<Run | undefined> => {
    const tick = scheduledTick(schedule.cron, firedAt);
    const run = await runner.trigger({
      job: schedule.job,
      scheduleId: schedule.id,
      tick,
      retries: schedule.retries,
      timeoutMs: schedule.timeoutMs,
      alertUrl: schedule.alertUrl,
      triggeredBy: `schedule:${schedule.name}`,
    });
    if (run) logger.info({ scheduleId: schedule.id, tick, runId: run.id }, "scheduled run started");
    return run;
  };

  const sync = async (): Promise<void> => {
    if (stopped) return;
    const schedules = await store.listSchedules();
    const wanted = new Set<string>();
    for (const schedule of schedules) {
      if (!schedule.enabled) continue;
      wanted.add(schedule.id);
      const key = JSON.stringify([
        schedule.cron,
        schedule.job,
        schedule.retries,
        schedule.timeoutMs,
        schedule.alertUrl,
      ]);
      if (timers.get(schedule.id)?.key === key) continue;
      timers.get(schedule.id)?.cron.stop();
      try {
        const cron = new Cron(schedule.cron, { timezone: "UTC", protect: true }, async () => {
          await fire(schedule).catch((error: unknown) =>
            logger.error({ err: error, scheduleId: schedule.id }, "scheduled run could not start"),
          );
        });
        timers.set(schedule.id, { cron, key });
      } catch (error) {
        logger.error(
          { err: error, scheduleId: schedule.id },
          "schedule has an invalid cron pattern; skipped",
        );
      }
    }
    for (const [id, timer] of timers) {
      if (wanted.has(id)) continue;
      timer.cron.stop();
      timers.delete(id);
    }
  };

  const interval = setInterval(() => {
    void sync().catch((error: unknown) => logger.warn({ err: error }, "schedules could not be re-read"));
  }, options.syncMs ?? 30_000);
  interval.unref();

  return {
    sync,
    fire,
    stop() {
      stopped = true;
      clearInterval(interval);
      for (const timer of timers.values()) timer.cron.stop();
      timers.clear();
    },
  };
}
