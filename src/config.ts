/**
 * Lakebook configuration: the only module that reads `process.env`. Everything else receives a
 * frozen `Config`, so tests build one with `normalizeConfig({...})` and no environment.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

const configSchema = z
  .object({
    /** Project root: where notebooks/, loaders/ and data/ live. */
    root: z.string().min(1),
    /** The lake's root folder (local filesystem backend). */
    lakeDir: z.string().min(1),
    /** Where published builds go; `current` inside points at the live one. */
    siteDir: z.string().min(1),
    /** The Framework root holding the notebooks. */
    notebooksDir: z.string().min(1),
    /** The project's data loaders, linked into the Framework root as `data/`. */
    loadersDir: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema>>;

/** Typed helper for config files and tests. */
export function defineConfig(spec: Partial<Config>): Partial<Config> {
  return spec;
}

/**
 * Validates a partial configuration (from a file, a test or the environment) and fills the
 * defaults relative to `root`.
 */
export function normalizeConfig(spec: unknown = {}): Config {
  if (typeof spec !== "object" || spec === null) throw new ConfigError("configuration must be an object");
  const input = spec as Partial<Config>;
  const root = resolve(input.root ?? process.cwd());
  const withDefaults = {
    root,
    lakeDir: resolve(root, input.lakeDir ?? "data/lake"),
    siteDir: resolve(root, input.siteDir ?? "data/site"),
    notebooksDir: resolve(root, input.notebooksDir ?? "notebooks"),
    loadersDir: resolve(root, input.loadersDir ?? "loaders"),
    host: input.host ?? "127.0.0.1",
    port: input.port ?? 3000,
  };
  const parsed = configSchema.safeParse(withDefaults);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid configuration at '${issue?.path.join(".")}': ${issue?.message}`);
  }
  return Object.freeze(parsed.data);
}

/** Reads the environment: LAKEBOOK_ROOT, LAKEBOOK_LAKE_DIR, LAKEBOOK_SITE_DIR, HOST, PORT. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = env.PORT === undefined ? undefined : Number(env.PORT);
  if (port !== undefined && !Number.isInteger(port)) {
    throw new ConfigError(`PORT must be a whole number, got '${env.PORT}'`);
  }
  return normalizeConfig({
    ...(env.LAKEBOOK_ROOT && { root: env.LAKEBOOK_ROOT }),
    ...(env.LAKEBOOK_LAKE_DIR && { lakeDir: env.LAKEBOOK_LAKE_DIR }),
    ...(env.LAKEBOOK_SITE_DIR && { siteDir: env.LAKEBOOK_SITE_DIR }),
    ...(env.HOST && { host: env.HOST }),
    ...(port !== undefined && { port }),
    ...overrides,
  });
}
