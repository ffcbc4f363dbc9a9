/**
 * Publishing with records: every build is recorded in the store (running -> succeeded | failed,
 * with its duration and the curated dataset versions it was built from; a build whose process
 * dies is marked failed once its lease expires); a failed build is
 * recorded and never replaces the live site (buildSite only switches `current` after a complete,
 * checked build). Rollback switches `current` to the newest kept build older than the live one.
 */
import { randomBytes } from "node:crypto";
import type { Config } from "../config.ts";
import { LakebookError } from "../errors.ts";
import { createLake, listHeads } from "../lake/index.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { type BuildSiteOptions, type BuildSiteResult, buildSite } from "./build.ts";
import type { ProgressListener } from "./buildProgress.ts";
import { createBuildId, listBuilds, maybeCurrentBuild, switchCurrent } from "./publish.ts";
import { keepLeased, type Store } from "../store/index.ts";

export interface PublishEffects {
  readonly logger?: Logger;
  readonly runId?: string | null;
  /** Each build step as it happens (the CLI prints it, a build run logs it). */
  readonly onProgress?: ProgressListener;
  /** The build record's lease, renewed while building (default DEFAULT_LEASE_MS). */
  readonly leaseMs?: number;
  /** Called with the build's duration and outcome (metrics). */
  readonly onFinished?: (result: { status: "succeeded" | "failed"; durationMs: number }) => void;
}

/** The current version of every curated dataset, e.g. `{ prices: 3 }`. */
export async function curatedVersions(config: Config): Promise<Record<string, number>> {
  const heads = await listHeads(createLake(config).storage, "curated").catch(() => []);
  return Object.fromEntries(heads.map((head) => [head.dataset, head.version]));
}

export async function publishBuild(
  config: Config,
  store: Store | undefined,
  effects: PublishEffects = {},
  options: BuildSiteOptions = {},
): Promise<BuildSiteResult> {
  const logger = effects.logger ?? silentLogger;
  const startedAt = new Date();
  const random = randomBytes(3).toString("hex");
  const id = createBuildId(startedAt, () => random);
  const dataVersions = await curatedVersions(config);
  await store?.startBuild({
    id,
    runId: effects.runId ?? null,
    startedAt,
    ...(effects.leaseMs !== undefined && { leaseMs: effects.leaseMs }),
  });
  // Renewed while this process builds: a killed build is recovered as failed, not "running" forever.
  const stopLease = store
    ? keepLeased(store, "build", id, effects.leaseMs, (error) =>
        logger.warn({ err: error }, "build lease not renewed"),
      )
    : () => undefined;
  const started = performance.now();
  try {
    const result = await buildSite(
      config,
      {
        logger,
        now: () => startedAt,
        random: () => random,
        ...(effects.onProgress && { onProgress: effects.onProgress }),
      },
      options,
    );
    await store?.finishBuild(id, {
      status: "succeeded",
      finishedAt: new Date(),
      durationMs: result.durationMs,
      dataVersions,
      error: null,
    });
    effects.onFinished?.({ status: "succeeded", durationMs: result.durationMs });
    return result;
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    await store
      ?.finishBuild(id, {
        status: "failed",
        finishedAt: new Date(),
        durationMs,
        dataVersions,
        error: error instanceof Error ? error.message : String(error),
      })
      .catch((recordError: unknown) =>
        logger.error({ err: recordError }, "could not record the failed build"),
      );
    effects.onFinished?.({ status: "failed", durationMs });
    throw error;
  } finally {
    stopLease();
  }
}

/** Switches `current` to the newest kept build older than the live one. */
export async function rollback(
  config: Config,
  store: Store | undefined,
  actor: string | null,
): Promise<{ from: string; to: string }> {
  const current = await maybeCurrentBuild(config.siteDir);
  if (current === undefined)
    throw new LakebookError("NOTHING_TO_ROLL_BACK", "nothing is published yet: run `lakebook build` first");
  const builds = await listBuilds(config.siteDir);
  const older = builds.filter((id) => id < current);
  const target = older.at(-1);
  if (target === undefined) {
    throw new LakebookError(
      "NOTHING_TO_ROLL_BACK",
      `no kept build older than ${current} to roll back to (kept: ${builds.join(", ") || "none"})`,
    );
  }
  await switchCurrent(config.siteDir, target);
  await store?.audit({ action: "publish.rollback", actor, target, detail: { from: current } });
  return { from: current, to: target };
}
