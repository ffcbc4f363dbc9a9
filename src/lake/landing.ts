/**
 * The landing zone: bytes exactly as fetched, content-addressed by sha256, with provenance.
 *
 * Layout: `landing/source=<source>/date=<YYYY-MM-DD>/<sha256>.<ext>` for the bytes and
 * `landing/source=<source>/_sha256/<sha256>.json` for the provenance record. The record is
 * committed with `writeIfAbsent` after the bytes, so landing the same content twice (same
 * source, same sha256) adds nothing and returns the first record.
 */
import { createHash } from "node:crypto";
import { copyFile, stat } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { DataError, VersionConflictError } from "../errors.ts";
import type { Lake } from "./lake.ts";
import { joinKey, normalizeName } from "./names.ts";
import type { Storage } from "./storage.ts";
import { sha256OfFile } from "./verify.ts";

export interface Provenance {
  source: string;
  /** Where the bytes came from: a URL, a file path or a query description. */
  origin: string;
  fetchedAt: string;
  sha256: string;
  bytes: number;
  contentType: string;
  key: string;
}

export interface LandingResult {
  record: Provenance;
  /** False when the same bytes were already landed for this source. */
  created: boolean;
}

const EXTENSION = /^[a-z0-9]{1,10}$/;

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function recordKey(source: string, sha256: string): string {
  return joinKey("landing", `source=${source}`, "_sha256", `${sha256}.json`);
}

export async function landBytes(
  storage: Storage,
  input: { source: string; origin: string; data: Buffer; extension: string; contentType: string; now?: Date },
): Promise<LandingResult> {
  const source = normalizeName(input.source, "source name");
  const extension = input.extension.toLowerCase();
  if (!EXTENSION.test(extension)) throw new Error(`invalid file extension '${input.extension}'`);
  const sha256 = sha256Hex(input.data);
  const existing = await maybeLanded(storage, source, sha256);
  if (existing) return { record: existing, created: false };

  const fetchedAt = (input.now ?? new Date()).toISOString();
  const key = landingKey(source, fetchedAt, sha256, extension);
  // Same key means same bytes, so rewriting after a crash between the two writes is harmless.
  await storage.write(key, input.data);
  return commitLanding(storage, {
    source,
    origin: input.origin,
    fetchedAt,
    sha256,
    bytes: input.data.length,
    contentType: input.contentType,
    key,
  });
}

/** Where landed bytes live: by source, landing date and content hash. */
function landingKey(source: string, fetchedAt: string, sha256: string, extension: string): string {
  return joinKey("landing", `source=${source}`, `date=${fetchedAt.slice(0, 10)}`, `${sha256}.${extension}`);
}

/**
 * Writes the landing record once its bytes are stored. Of two writers landing the same bytes,
 * the record written first stands and the other returns it as not created.
 */
async function commitLanding(storage: Storage, record: Provenance): Promise<LandingResult> {
  try {
    await storage.writeIfAbsent(
      recordKey(record.source, record.sha256),
      JSON.stringify(record, null, 2) + "\n",
    );
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    const winner = await maybeLanded(storage, record.source, record.sha256);
    if (winner) return { record: winner, created: false };
    throw error;
  }
  return { record, created: true };
}

const CONTENT_TYPES: Record<string, string> = {
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  json: "application/json",
  parquet: "application/vnd.apache.parquet",
};

/**
 * Lands a local file without holding it in memory (a CSV of gigabytes): hashed while streamed,
 * copied into the lake's scratch folder, moved into the store. Same layout and idempotence as
 * `landBytes`: landing the same bytes for the same source again adds nothing.
 */
export async function landLocalFile(
  lake: Lake,
  input: { source: string; path: string; now?: Date },
): Promise<LandingResult> {
  const source = normalizeName(input.source, "source name");
  const path = resolve(input.path);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new DataError(`cannot read ${path}: ${error.code ?? "error"}; check the path`, { cause: error });
  });
  if (!info.isFile()) throw new DataError(`${path} is not a file`);
  const extension = extname(path).slice(1).toLowerCase() || "bin";
  if (!EXTENSION.test(extension))
    throw new DataError(`unsupported file extension '.${extension}' of ${basename(path)}`);
  const sha256 = await sha256OfFile(path);
  const existing = await maybeLanded(lake.storage, source, sha256);
  if (existing) return { record: existing, created: false };

  const fetchedAt = (input.now ?? new Date()).toISOString();
  const key = landingKey(source, fetchedAt, sha256, extension);
  const scratch = await lake.scratch();
  try {
    const copy = join(scratch, `${sha256}.${extension}`);
    await copyFile(path, copy);
    await lake.storage.putFile(key, copy);
  } finally {
    await lake.releaseScratch(scratch);
  }
  return commitLanding(lake.storage, {
    source,
    origin: `file://${path}`,
    fetchedAt,
    sha256,
    bytes: info.size,
    contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
    key,
  });
}

export async function maybeLanded(
  storage: Storage,
  source: string,
  sha256: string,
): Promise<Provenance | undefined> {
  const bytes = await storage.maybeRead(recordKey(normalizeName(source, "source name"), sha256));
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as Provenance);
}

/** Every landing record of a source, oldest first. */
export async function listLanded(storage: Storage, source: string): Promise<Provenance[]> {
  const prefix = joinKey("landing", `source=${normalizeName(source, "source name")}`, "_sha256") + "/";
  const records = await Promise.all(
    (await storage.list(prefix)).map(
      async ({ key }) => JSON.parse((await storage.read(key)).toString("utf8")) as Provenance,
    ),
  );
  return records.sort((a, b) => a.fetchedAt.localeCompare(b.fetchedAt));
}
