/** Request schemas of the API (zod), also the source of the OpenAPI parameter and body schemas. */
import { z } from "zod";
import { ROLES } from "../../src/store/index.ts";

export const zoneSchema = z.enum(["raw", "staging", "curated"]);
export const datasetName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "use 1 to 64 letters, digits, _ and -");
export const runId = z
  .string()
  .regex(/^r-[0-9a-z]{9}-[0-9a-f]{8}$/, "a run id looks like r-0mi1a2b3c-1a2b3c4d");
export const scheduleId = z.string().regex(/^s-[0-9a-f]{12}$/, "a schedule id looks like s-1a2b3c4d5e6f");
export const buildId = z
  .string()
  .regex(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/, "a build id looks like 20261125T191900123Z-1a2b3c");
export const limit = z.coerce.number().int().min(1).max(1000).optional();
export const runStatus = z.enum(["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]);
export const jobName = z
  .string()
  .regex(
    /^[a-z][A-Za-z0-9:;+_.,* -]{0,199}$/,
    "a job such as build, run, run:+curated.prices or run:raw.quotes+;build",
  );
export const role = z.enum(ROLES as [string, ...string[]]);

export const datasetParams = z.object({ zone: zoneSchema, dataset: datasetName }).strict();
export const versionParams = datasetParams
  .extend({ version: z.coerce.number().int().min(1).max(99_999_999) })
  .strict();
export const listDatasetsQuery = z.object({ zone: zoneSchema.optional() }).strict();
export const listQuery = z.object({ limit }).strict();
export const listRunsQuery = z
  .object({ limit, status: runStatus.optional(), job: jobName.optional() })
  .strict();
export const logsQuery = z.object({ after: z.coerce.number().int().min(0).optional() }).strict();
export const runParams = z.object({ id: runId }).strict();
export const scheduleParams = z.object({ id: scheduleId }).strict();
export const buildParams = z.object({ id: buildId }).strict();
export const empty = z.object({}).strict();

/** How often a run is retried after a failure, and how long one attempt may take (1 s to 24 h). */
const runRetries = z.number().int().min(0).max(10).optional();
const runTimeoutMs = z
  .number()
  .int()
  .min(1000)
  .max(24 * 3_600_000)
  .optional();

export const triggerBody = z
  .object({
    job: jobName,
    retries: runRetries,
    timeoutMs: runTimeoutMs,
  })
  .strict();

const webhook = z
  .string()
  .url()
  .max(2048)
  .refine((url) => /^https?:\/\//.test(url), "use an http(s) URL");

export const scheduleBody = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9 _.-]{1,64}$/, "use 1 to 64 letters, digits, spaces, _ . and -"),
    job: jobName,
    cron: z.string().min(9).max(120),
    enabled: z.boolean().optional(),
    retries: runRetries,
    timeoutMs: runTimeoutMs,
    alertUrl: webhook.nullable().optional(),
  })
  .strict();

export const schedulePatch = scheduleBody.partial().strict();
