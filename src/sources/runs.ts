/**
 * Run records: every source run leaves one JSON record in the lake, whether it succeeded or not,
 * at `landing/source=<source>/_runs/<runId>.json` (run ids sort by start time). A record is
 * created once, with "create only if absent", and never rewritten.
 *
 * `runSource` wraps a source's work: it times it, counts what was landed, redacts secrets from
 * the parameters, records the outcome and rethrows a failure as a SourceError that names the run.
 */
import { SourceError, isLakebookError } from "../errors.ts";
import {
  type Lake,
  type LandingResult,
  type Storage,
  joinKey,
  landBytes,
  newWriteId,
  normalizeName,
} from "../lake/index.ts";
import { type Logger, silentLogger } from "../logger.ts";

export type SourceKind = "file" | "browser" | "html" | "api" | "postgres";

export interface RunRecord {
  runId: string;
  source: string;
  kind: SourceKind;
  /** What the run was asked to do, with every secret-looking value replaced by "[redacted]". */
  parameters: Record<string, unknown>;
  startedAt: string;
  endedAt: string;
  status: "succeeded" | "failed";
  /** Bytes fetched and landed (or found already landed) by this run. */
  bytes: number;
  rows: number;
  /** Landing keys of the files this run produced, new or already present. */
  landed: string[];
  /** How many of `landed` were new: 0 when the source was unchanged. */
  created: number;
  /** Screenshots and HTML snapshots saved when extraction failed. */
  snapshots: string[];
  error?: { code: string; message: string };
}

const SECRET_KEY_NAME = /pass(word)?|secret|token|cookie|seed|auth|api[_-]?key|credential|session/i;

// Keys such as `passwordSecret` or `headerSecrets` hold *names* of stored secrets, not values.
const SECRET_NAME_KEY = /Secrets?$/;

/** Replaces values under secret-looking keys, at any depth. Secret names (`...Secret`) are kept. */
export function redactParameters(value: unknown, key = ""): unknown {
  if (SECRET_NAME_KEY.test(key)) return value;
  if (key !== "" && SECRET_KEY_NAME.test(key)) return value === undefined ? undefined : "[redacted]";
  if (Array.isArray(value)) return value.map((item) => redactParameters(item));
  if (value instanceof RegExp) return String(value);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactParameters(v, k)]));
  }
  if (typeof value === "string" && /^[a-z]+:\/\/[^/]*:[^/@]*@/i.test(value)) {
    // A connection string with a password in it.
    return value.replace(/^([a-z]+:\/\/[^/:]*):[^/@]*@/i, "$1:[redacted]@");
  }
  return value;
}

function runsPrefix(source: string): string {
  return joinKey("landing", `source=${normalizeName(source, "source name")}`, "_runs") + "/";
}

export async function recordRun(storage: Storage, record: RunRecord): Promise<string> {
  const key = joinKey(runsPrefix(record.source).slice(0, -1), `${record.runId}.json`);
  await storage.writeIfAbsent(key, JSON.stringify(record, null, 2) + "\n");
  return key;
}

/** Every recorded run of a source (or of every source when omitted), oldest first. */
export async function listRuns(storage: Storage, source?: string): Promise<RunRecord[]> {
  const objects =
    source === undefined
      ? (await storage.list("landing/")).filter(({ key }) =>
          /^landing\/source=[^/]+\/_runs\/[^/]+$/.test(key),
        )
      : await storage.list(runsPrefix(source));
  const records = await Promise.all(
    objects
      .filter(({ key }) => key.endsWith(".json"))
      .map(async ({ key }) => JSON.parse((await storage.read(key)).toString("utf8")) as RunRecord),
  );
  return records.sort((a, b) => a.runId.localeCompare(b.runId));
}

/** Side effects a source run uses; all optional so tests can swap them. */
export interface SourceContext {
  lake: Lake;
  logger?: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** What a source's work sees while it runs. */
export interface Run {
  readonly runId: string;
  readonly source: string;
  readonly logger: Logger;
  /** Lands bytes under the run's source and counts them. */
  land(input: {
    origin: string;
    data: Buffer;
    extension: string;
    contentType: string;
  }): Promise<LandingResult>;
  /** Saves a failure snapshot (screenshot, HTML, response body) and returns its landing key. */
  snapshot(input: { origin: string; data: Buffer; extension: string; contentType: string }): Promise<string>;
  addRows(count: number): void;
  /** Counts bytes that were fetched but are not landed by this run (e.g. a 304 reuse). */
  addBytes(count: number): void;
}

/** The source that keeps a source's failure snapshots apart from its data landings. */
export function snapshotSource(source: string): string {
  return normalizeName(`${source}-snapshots`, "snapshot source name");
}

/**
 * Runs `work` as one recorded run of `source`. On failure the run is recorded as failed and a
 * SourceError is thrown whose message says what happened, where the snapshots are and which
 * run record holds the details.
 */
export async function runSource<T>(
  context: SourceContext,
  input: { source: string; kind: SourceKind; parameters: Record<string, unknown> },
  work: (run: Run) => Promise<T>,
): Promise<{ result: T; record: RunRecord }> {
  const source = normalizeName(input.source, "source name");
  const now = context.now ?? (() => new Date());
  const started = now();
  const runId = newWriteId(started);
  const logger = (context.logger ?? silentLogger).child({ source, kind: input.kind, runId });
  const storage = context.lake.storage;
  const landed: string[] = [];
  const snapshots: string[] = [];
  let bytes = 0;
  let rows = 0;
  let created = 0;

  const run: Run = {
    runId,
    source,
    logger,
    async land(file) {
      const result = await landBytes(storage, { source, ...file, now: now() });
      bytes += file.data.length;
      if (!landed.includes(result.record.key)) landed.push(result.record.key);
      if (result.created) created += 1;
      logger.debug({ key: result.record.key, created: result.created, bytes: file.data.length }, "landed");
      return result;
    },
    async snapshot(file) {
      const result = await landBytes(storage, { source: snapshotSource(source), ...file, now: now() });
      snapshots.push(result.record.key);
      return result.record.key;
    },
    addRows(count) {
      rows += count;
    },
    addBytes(count) {
      bytes += count;
    },
  };

  const parameters = redactParameters(input.parameters) as Record<string, unknown>;
  logger.info({ parameters }, "source run started");
  const base = { runId, source, kind: input.kind, parameters, startedAt: started.toISOString() };
  try {
    const result = await work(run);
    const record: RunRecord = {
      ...base,
      endedAt: now().toISOString(),
      status: "succeeded",
      bytes,
      rows,
      landed,
      created,
      snapshots,
    };
    const key = await recordRun(storage, record);
    logger.info({ bytes, rows, created, record: key }, "source run succeeded");
    return { result, record };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = isLakebookError(error) ? error.code : "SOURCE";
    const record: RunRecord = {
      ...base,
      endedAt: now().toISOString(),
      status: "failed",
      bytes,
      rows,
      landed,
      created,
      snapshots,
      error: { code, message },
    };
    const key = await recordRun(storage, record).catch(() => undefined);
    logger.error({ error: { code, message }, record: key }, "source run failed");
    // Snapshot keys are lake keys: say which lake, and name any the message does not.
    const unnamed = snapshots.filter((s) => !message.includes(s));
    const where =
      snapshots.length === 0
        ? ""
        : unnamed.length > 0
          ? ` (snapshot: ${unnamed.join(", ")} in ${storage.location})`
          : ` (snapshots in ${storage.location})`;
    throw new SourceError(`source '${source}' failed: ${message}${where}; run record ${key ?? "not saved"}`, {
      cause: error,
    });
  }
}
