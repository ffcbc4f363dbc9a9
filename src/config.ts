/**
 * Lakebook configuration: the only module that reads `process.env`. Everything else receives a
 * frozen `Config`, so tests build one with `normalizeConfig({...})` and no environment.
 */
import { isIP } from "node:net";
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

/** The named ranges Express's `trust proxy` knows. */
const PROXY_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** `10.0.0.1`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `fd00::/8`, or a named range. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (/^\d{1,3}$/.test(prefix)) return Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(prefix) === 4;
}

/**
 * Which proxies in front of the server may name the client in X-Forwarded-For: none (false),
 * the nearest `n` hops, or the proxies at these addresses, CIDR ranges or named ranges.
 */
const trustProxySchema = z.union([
  z.literal(false),
  z.number().int().min(1).max(100),
  z
    .array(
      z.string().refine(isProxyAddress, {
        message: "use an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal",
      }),
    )
    .min(1),
]);

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
    /**
     * Proxies whose X-Forwarded-For names the client (Express's `trust proxy`): the address
     * the login rate limit and the audit log see. false (default): the socket's address.
     */
    trustProxy: trustProxySchema,
    /**
     * How long a lake write keeps rebasing on other writers' commits before it gives up
     * (LAKEBOOK_COMMIT_TIMEOUT, in seconds; default 120).
     */
    commitTimeoutMs: z.number().int().min(0),
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type StorageConfig = z.infer<typeof storageSchema>;
export type TrustProxy = z.infer<typeof trustProxySchema>;
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
    trustProxy: input.trustProxy ?? false,
    commitTimeoutMs: input.commitTimeoutMs ?? 120_000,
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
 * DATABASE_URL, LAKEBOOK_SECRET_KEY, LAKEBOOK_PUBLIC, LAKEBOOK_TRUST_PROXY, LAKEBOOK_COMMIT_TIMEOUT, and for the S3 lake
 * LAKEBOOK_S3_ENDPOINT, LAKEBOOK_S3_BUCKET, LAKEBOOK_S3_PREFIX, LAKEBOOK_S3_REGION,
 * LAKEBOOK_S3_ACCESS_KEY, LAKEBOOK_S3_SECRET_KEY (setting the endpoint switches the lake to S3).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = env.PORT === undefined || env.PORT === "" ? undefined : Number(env.PORT);
  if (port !== undefined && !Number.isInteger(port)) {
    throw new ConfigError(`PORT must be a whole number, got '${env.PORT}'`);
  }
  const commitTimeout = env.LAKEBOOK_COMMIT_TIMEOUT ? Number(env.LAKEBOOK_COMMIT_TIMEOUT) : undefined;
  if (commitTimeout !== undefined && !(Number.isFinite(commitTimeout) && commitTimeout >= 0)) {
    throw new ConfigError(
      `LAKEBOOK_COMMIT_TIMEOUT must be a number of seconds, got '${env.LAKEBOOK_COMMIT_TIMEOUT}'`,
    );
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
    ...(env.LAKEBOOK_TRUST_PROXY && { trustProxy: parseTrustProxy(env.LAKEBOOK_TRUST_PROXY) }),
    ...(commitTimeout !== undefined && { commitTimeoutMs: Math.round(commitTimeout * 1000) }),
    ...overrides,
  });
}

/**
 * LAKEBOOK_TRUST_PROXY: `false` or `0` (off), a hop count (`1`: one proxy in front), or
 * comma-separated proxy addresses, CIDR ranges and `loopback`/`linklocal`/`uniquelocal`.
 * `true` is refused: it would take the client's address from the left end of X-Forwarded-For,
 * which any client can write.
 */
export function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim();
  if (text === "" || text === "false" || text === "0") return false;
  if (text === "true") {
    throw new ConfigError(
      "LAKEBOOK_TRUST_PROXY=true would let any client pick its address with X-Forwarded-For: " +
        "give the number of proxies in front of the server (e.g. 1) or their addresses (e.g. loopback)",
    );
  }
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(",").map((entry) => entry.trim());
  const bad = entries.find((entry) => !isProxyAddress(entry));
  if (bad !== undefined) {
    throw new ConfigError(
      `LAKEBOOK_TRUST_PROXY has '${bad}': use a hop count, IP addresses, CIDR ranges (10.0.0.0/8) ` +
        "or loopback, linklocal, uniquelocal, separated by commas",
    );
  }
  return entries;
}

/**
 * Whether this process runs in a strict build (`lakebook build --strict` sets LAKEBOOK_STRICT=1
 * for its loaders): data whose newest version failed its quality checks fails the loader.
 */
export function strictFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LAKEBOOK_STRICT === "1";
}
