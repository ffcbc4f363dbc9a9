/**
 * The queue a configuration implies: PostgreSQL (pg-boss) with `DATABASE_URL`, else in-process.
 * Its settings come from the environment (LAKEBOOK_QUEUE_*), read and checked here.
 */
import type { Config } from "../config.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { createInProcessQueue } from "./inProcessQueue.ts";
import { createPgBossQueue } from "./pgBossQueue.ts";
import type { RunQueue } from "./queue.ts";

export interface QueueSettings {
  readonly schema: string;
  readonly heartbeatSeconds: number;
  readonly monitorSeconds: number;
  readonly retryLimit: number;
  readonly pollingSeconds: number;
}

export function queueSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): QueueSettings {
  const schema = env.LAKEBOOK_QUEUE_SCHEMA ?? "lakebook_queue";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(
      `LAKEBOOK_QUEUE_SCHEMA '${schema}' is not a plain PostgreSQL schema name: use lower-case letters, digits and _`,
    );
  }
  return {
    schema,
    heartbeatSeconds: number(env, "LAKEBOOK_QUEUE_HEARTBEAT_SECONDS", 30, 10),
    monitorSeconds: number(env, "LAKEBOOK_QUEUE_MONITOR_SECONDS", 5, 1),
    retryLimit: number(env, "LAKEBOOK_QUEUE_RETRY_LIMIT", 5, 0),
    pollingSeconds: number(env, "LAKEBOOK_QUEUE_POLLING_SECONDS", 2, 0.5),
  };
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} is '${text}': use a number of at least ${min}`);
  }
  return value;
}

export async function openRunQueue(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunQueue> {
  if (!config.databaseUrl) return createInProcessQueue({ logger });
  const settings = queueSettingsFromEnv(env);
  return createPgBossQueue({ url: config.databaseUrl, logger, ...settings });
}
