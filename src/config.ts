/**
 * Lakebook configuration: the only module that reads `process.env`. Everything else receives a
 * frozen `Config`, so tests build one with `normalizeConfig({...})` and no environment.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

const s3Schema = z
  .object({
    kind: z.literal("s3"),
    /** e.g. http://127.0.0.1:9000 */
    endpoint: z.string().url(),
    bucket: z.string().min(3),
    /** Key prefix inside the bucket ("" for the bucket root). */
    prefix: z.string(),
    region: z.string().min(1),
    accessKey: z.string().min(1),
    secretKey: z.string().min(1),
  })
  .strict();

const storageSchema = z.discriminatedUnion("kind", [z.object({ kind: z.literal("fs") }).strict(), s3Schema]);

const configSchema = z
  .object({
    /** Project root: where notebooks/, loaders/ and data/ live. */
    root: z.string().min(1),
    /** The lake's root folder (filesystem backend), and the local cache for the S3 backend. */
    lakeDir: z.string().min(1),
    /** Where the lake lives: the local filesystem (default) or an S3-compatible object store. */
    storage: storageSchema,
    /** Where published builds go; `current` inside points at the live one. */
    siteDir: z.string().min(1),
    /** The Framework root holding the notebooks. */
    notebooksDir: z.string().min(1),
    /** The project's data loaders, linked into the Framework root as `data/`. */
    loadersDir: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** PostgreSQL for run, build, user and schedule records; undefined: the embedded store. */
    databaseUrl: z.string().optional(),
    /** Key (base64 or hex, 32 bytes) that encrypts secrets at rest; undefined: no secrets stored. */
    secretKey: z.string().optional(),
    /** A site meant to be open: no login for reading. */
    publicMode: z.boolean(),
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type StorageConfig = z.infer<typeof storageSchema>;
export type S3StorageConfig = z.infer<typeof s3Schema>;

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
    ...input,
    root,
    lakeDir: resolve(root, input.lakeDir ?? "data/lake"),
    storage: input.storage ?? { kind: "fs" },
    siteDir: resolve(root, input.siteDir ?? "data/site"),
    notebooksDir: resolve(root, input.notebooksDir ?? "notebooks"),
    loadersDir: resolve(root, input.loadersDir ?? "loaders"),
    host: input.host ?? "127.0.0.1",
    port: input.port ?? 3000,
    publicMode: input.publicMode ?? false,
  };
  const parsed = configSchema.safeParse(withDefaults);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid configuration at '${issue?.path.join(".")}': ${issue?.message}`);
  }
  return Object.freeze(parsed.data);
}

/**
 * Reads the environment: LAKEBOOK_ROOT, LAKEBOOK_LAKE_DIR, LAKEBOOK_SITE_DIR, HOST, PORT,
 * DATABASE_URL, LAKEBOOK_SECRET_KEY, LAKEBOOK_PUBLIC, and for the S3 lake LAKEBOOK_S3_ENDPOINT,
 * LAKEBOOK_S3_BUCKET, LAKEBOOK_S3_PREFIX, LAKEBOOK_S3_REGION, LAKEBOOK_S3_ACCESS_KEY,
 * LAKEBOOK_S3_SECRET_KEY (setting the endpoint switches the lake to S3).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = env.PORT === undefined || env.PORT === "" ? undefined : Number(env.PORT);
  if (port !== undefined && !Number.isInteger(port)) {
    throw new ConfigError(`PORT must be a whole number, got '${env.PORT}'`);
  }
  const storage: StorageConfig | undefined = env.LAKEBOOK_S3_ENDPOINT
    ? {
        kind: "s3",
        endpoint: env.LAKEBOOK_S3_ENDPOINT,
        bucket: env.LAKEBOOK_S3_BUCKET ?? "",
        prefix: env.LAKEBOOK_S3_PREFIX ?? "",
        region: env.LAKEBOOK_S3_REGION ?? "us-east-1",
        accessKey: env.LAKEBOOK_S3_ACCESS_KEY ?? "",
        secretKey: env.LAKEBOOK_S3_SECRET_KEY ?? "",
      }
    : undefined;
  return normalizeConfig({
    ...(env.LAKEBOOK_ROOT && { root: env.LAKEBOOK_ROOT }),
    ...(env.LAKEBOOK_LAKE_DIR && { lakeDir: env.LAKEBOOK_LAKE_DIR }),
    ...(env.LAKEBOOK_SITE_DIR && { siteDir: env.LAKEBOOK_SITE_DIR }),
    ...(env.HOST && { host: env.HOST }),
    ...(port !== undefined && { port }),
    ...(storage && { storage }),
    ...(env.DATABASE_URL && { databaseUrl: env.DATABASE_URL }),
    ...(env.LAKEBOOK_SECRET_KEY && { secretKey: env.LAKEBOOK_SECRET_KEY }),
    ...(env.LAKEBOOK_PUBLIC && { publicMode: env.LAKEBOOK_PUBLIC === "true" || env.LAKEBOOK_PUBLIC === "1" }),
    ...overrides,
  });
}
