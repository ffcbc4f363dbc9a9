/**
 * Schedules declared in the project config (`lakebook.config.ts`) are copied into the store, where
 * the scheduler runs them like schedules made through the API: once per tick across every server
 * sharing the store. A config schedule is stored as `config:<name>`; its job, cron and options
 * follow the file at each server start, and one removed from the file is removed from the store.
 * Two servers starting at once both try: the unique schedule name lets one win, the other skips.
 */
import { isLakebookError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import type { ProjectSchedule } from "../../src/project/index.ts";
import type { Store } from "../../src/store/index.ts";

export const CONFIG_SCHEDULE_PREFIX = "config:";

export async function syncConfigSchedules(
  store: Store,
  schedules: ProjectSchedule[],
  logger: Logger,
): Promise<void> {
  const stored = (await store.listSchedules()).filter((s) => s.name.startsWith(CONFIG_SCHEDULE_PREFIX));
  const byName = new Map(stored.map((s) => [s.name, s]));
  for (const schedule of schedules) {
    const name = `${CONFIG_SCHEDULE_PREFIX}${schedule.name}`;
    const wanted = {
      name,
      job: schedule.job,
      cron: schedule.cron,
      enabled: schedule.enabled,
      retries: schedule.retries,
      alertUrl: schedule.alertUrl,
      ...(schedule.timeoutMs !== null && { timeoutMs: schedule.timeoutMs }),
    };
    const existing = byName.get(name);
    byName.delete(name);
    if (!existing) {
      await store.addSchedule(wanted).catch((error: unknown) => {
        // Another server added it first.
        if (!(isLakebookError(error) && error.code === "CONFLICT")) throw error;
      });
      logger.info({ schedule: name }, "schedule from the project config added");
      continue;
    }
    const same =
      existing.job === wanted.job &&
      existing.cron === wanted.cron &&
      existing.enabled === wanted.enabled &&
      existing.retries === wanted.retries &&
      existing.alertUrl === wanted.alertUrl &&
      (schedule.timeoutMs === null || existing.timeoutMs === schedule.timeoutMs);
    if (!same) await store.updateSchedule(existing.id, wanted);
  }
  for (const removed of byName.values()) {
    await store.removeSchedule(removed.id);
    logger.info({ schedule: removed.name }, "schedule no longer in the project config removed");
  }
}
