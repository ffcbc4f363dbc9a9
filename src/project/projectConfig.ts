/**
 * The project's own settings: `lakebook.config.ts` at the project root, whose default export is
 * made with `defineConfig`. It holds what belongs to the project rather than to one machine:
 * schedules (each a job: a selection to run and/or a build, see jobs.ts) and how many
 * independent steps `lakebook run` may run at once. Machine settings (ports, folders, database,
 * keys) stay in the environment (src/config.ts).
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { parseJob } from "./jobs.ts";

export interface ScheduleInput {
  /** Unique among the project's schedules; stored as `config:<name>`. */
  name: string;
  /** Cron pattern, UTC (e.g. `0 3 * * *`). */
  cron: string;
  /** A job (`build`, `run`, `run:+curated.prices`, `run:raw.quotes+;build`), or use `run`/`build`. */
  job?: string;
  /** A selection to run (`""` or `"*"`: everything). */
  run?: string;
  /** Build and publish the site (after the run, when both are given). */
  build?: boolean;
  retries?: number;
  timeoutMs?: number;
  alertUrl?: string | null;
  enabled?: boolean;
}

export interface ProjectConfigInput {
  /** Independent steps `lakebook run` runs at once (default 2). */
  concurrency?: number;
  schedules?: ScheduleInput[];
}

export interface ProjectSchedule {
  name: string;
  cron: string;
  job: string;
  retries: number;
  timeoutMs: number | null;
  alertUrl: string | null;
  enabled: boolean;
}

export interface ProjectConfig {
  concurrency: number;
  schedules: ProjectSchedule[];
}

/** Typed helper for `lakebook.config.ts`: `export default defineConfig({ schedules: [...] })`. */
export function defineConfig(config: ProjectConfigInput): ProjectConfigInput {
  return config;
}

const scheduleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9 _.-]{1,56}$/, "use 1 to 56 letters, digits, spaces, _ . and -"),
    cron: z.string().min(9).max(120),
    job: z.string().optional(),
    run: z.string().optional(),
    build: z.boolean().optional(),
    retries: z.number().int().min(0).max(10).optional(),
    timeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 3_600_000)
      .optional(),
    alertUrl: z.string().url().nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

const configSchema = z
  .object({
    concurrency: z.number().int().min(1).max(32).optional(),
    schedules: z.array(scheduleSchema).optional(),
  })
  .strict();

export function normalizeProjectConfig(input: unknown, file = "lakebook.config.ts"): ProjectConfig {
  const parsed = configSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${file}: invalid setting at '${issue?.path.join(".") || "(default export)"}': ${issue?.message}`,
    );
  }
  const seen = new Set<string>();
  const schedules = (parsed.data.schedules ?? []).map((s): ProjectSchedule => {
    if (seen.has(s.name)) throw new ConfigError(`${file}: two schedules are named '${s.name}': rename one`);
    seen.add(s.name);
    const job =
      s.job ??
      [
        s.run === undefined ? undefined : s.run === "" || s.run === "*" ? "run" : `run:${s.run}`,
        s.build ? "build" : undefined,
      ]
        .filter(Boolean)
        .join(";");
    if (!job)
      throw new ConfigError(`${file}: schedule '${s.name}' has nothing to do: give run, build or job`);
    if (s.job !== undefined && (s.run !== undefined || s.build !== undefined))
      throw new ConfigError(`${file}: schedule '${s.name}': give either job or run/build, not both`);
    try {
      parseJob(job);
    } catch (error) {
      throw new ConfigError(`${file}: schedule '${s.name}': ${(error as Error).message}`, { cause: error });
    }
    return {
      name: s.name,
      cron: s.cron,
      job,
      retries: s.retries ?? 0,
      timeoutMs: s.timeoutMs ?? null,
      alertUrl: s.alertUrl ?? null,
      enabled: s.enabled ?? true,
    };
  });
  return Object.freeze({ concurrency: parsed.data.concurrency ?? 2, schedules });
}

export const CONFIG_FILES = ["lakebook.config.ts", "lakebook.config.js", "lakebook.config.mjs"];

/** Loads `lakebook.config.{ts,js,mjs}` from `root`; the defaults when there is none. */
export async function loadProjectConfig(root: string): Promise<ProjectConfig> {
  for (const name of CONFIG_FILES) {
    const path = join(root, name);
    if (
      !(await access(path).then(
        () => true,
        () => false,
      ))
    )
      continue;
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(`${name} could not be loaded: ${(error as Error).message.split("\n")[0]}`, {
        cause: error,
      });
    }
    return normalizeProjectConfig(module.default, name);
  }
  return normalizeProjectConfig({});
}
