/**
 * The loader cache: a data loader's cached output is reused only while nothing it depends on has
 * changed, and rerun otherwise, with the reason said. Framework on its own reuses an output for
 * as long as it is newer than the loader file, whatever the data did (framework#1148, #1314), and
 * Lakebook used to rerun every loader on every build; this decides per output instead.
 *
 * An output depends on:
 * - its loader file and the local modules it imports (loaderInputs.ts), by content;
 * - the lake dataset versions it read through the public API (recorded by the loader process,
 *   src/lake/readRecord.ts): a newer version of any of them reruns it;
 * - its declared maximum age (`export const maxAge = "1h"`), counted from its last run;
 * - its parameters (a parameterized loader's outputs are cached one by one): a loader that reads
 *   only its entity's rows (`readDataset(name, { where: { ticker } })`) is kept when a new version
 *   leaves those rows unchanged (compared by a hash of them), so only changed entities rerun.
 * An output whose loader read no lake data and declares no maximum age is always rerun: nothing
 * says when its data changes. `--refresh` reruns all, `--refresh <loader>` the named ones.
 *
 * Before Framework builds, a stale output is deleted (so Framework runs its loader) and a fresh
 * one is touched (so Framework's own mtime check agrees); after the build, every output that ran
 * gets a new record. Records live in `.observablehq/cache/_lakebook/loaders.json`, beside the
 * outputs they describe; an output with no record is treated as stale.
 */
import { existsSync, realpathSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import {
  listHeads,
  listingOf,
  maybeHead,
  type DatasetRead,
  type Lake,
  type RecordedRead,
  type VersionedZone,
} from "../lake/index.ts";
import { filteredRowsHash } from "../pipeline/index.ts";
import type { FrameworkLoader, FrameworkLoaderResolver } from "./framework.ts";
import { declaredMaxAge, formatAge, loaderInputHashes, type InputHashes } from "./loaderInputs.ts";

/** What the cache remembers about one loader output. */
export interface LoaderRecord {
  /** The served file relative to the Framework root, e.g. `data/market.json`. */
  readonly target: string;
  /** The loader file relative to the project root. */
  readonly loader: string;
  readonly inputs: InputHashes;
  readonly reads: readonly DatasetRead[];
  readonly maxAgeMs?: number;
  /** When the loader last ran (ISO), for the maximum age. */
  readonly ranAt: string;
}

/** Why an output was reused or rerun, as the build prints and records it. */
export interface LoaderDecision {
  readonly target: string;
  readonly action: "reuse" | "rerun";
  readonly reason: string;
}

export interface LoaderPlanOptions {
  /** The Framework root (notebooks folder). */
  readonly notebooksDir: string;
  /** The project root, for the relative paths in records and reasons. */
  readonly projectRoot: string;
  readonly resolver: FrameworkLoaderResolver;
  readonly lake: Lake;
  /** `true`: rerun every loader; a list: rerun the loaders it names (see `matchesLoader`). */
  readonly refresh?: boolean | readonly string[];
  readonly now?: () => Date;
}

const RECORDS_FILE = join("_lakebook", "loaders.json");

export function cacheDirOf(notebooksDir: string): string {
  return join(notebooksDir, ".observablehq", "cache");
}

/** Decides, for every cached loader output, reuse or rerun, and prepares the cache accordingly. */
export async function planLoaders(options: LoaderPlanOptions): Promise<LoaderDecision[]> {
  const cacheDir = cacheDirOf(options.notebooksDir);
  const records = await readRecords(cacheDir);
  const now = options.now?.() ?? new Date();
  const decisions: LoaderDecision[] = [];
  for (const target of await cachedOutputs(cacheDir)) {
    const loader = options.resolver.find(`/${target}`);
    const path = join(cacheDir, target);
    if (!loader?.args) {
      // A static file or a loader that no longer exists: its old output must not be served.
      await rm(path, { force: true });
      continue;
    }
    const decision = await decide(target, loader, records[target], options, now);
    decisions.push(decision);
    if (decision.action === "rerun") await rm(path, { force: true });
    else await utimes(path, now, now);
  }
  return decisions;
}

async function decide(
  target: string,
  loader: FrameworkLoader,
  record: LoaderRecord | undefined,
  options: LoaderPlanOptions,
  now: Date,
): Promise<LoaderDecision> {
  const rerun = (reason: string): LoaderDecision => ({ target, action: "rerun", reason });
  const loaderFile = join(options.notebooksDir, loader.path);
  if (options.refresh === true) return rerun("--refresh");
  if (Array.isArray(options.refresh) && options.refresh.some((name) => matchesLoader(name, target, loader)))
    return rerun(`--refresh ${basename(loader.path)}`);
  if (!record) return rerun("no record of its inputs");
  const inputs = loaderInputHashes(realpathSync(loaderFile), options.projectRoot);
  const changed = changedInputs(record.inputs, inputs);
  if (changed.length > 0) return rerun(`${changed.join(", ")} changed`);
  const maxAgeMs = declaredMaxAge(loaderFile);
  const ageMs = now.getTime() - Date.parse(record.ranAt);
  if (maxAgeMs !== undefined && ageMs > maxAgeMs) return rerun(`older than ${formatAge(maxAgeMs)}`);
  if (record.reads.length === 0 && maxAgeMs === undefined)
    return rerun("reads no lake data and declares no maxAge");
  const moved: string[] = [];
  const kept: string[] = [];
  for (const read of record.reads) {
    if (read.dataset === "*") {
      const listing = listingOf(await listHeads(options.lake.storage, read.zone as VersionedZone));
      if (listing !== read.listing)
        moved.push(`${read.zone}/* (${describeListingChange(read.listing, listing)})`);
      continue;
    }
    const head = await maybeHead(options.lake.storage, read.zone as VersionedZone, read.dataset);
    const current = head?.version;
    if (current !== read.version && head && read.where && read.rows) {
      // A read of one entity's rows: a new version leaves the output valid if those rows are the same.
      if ((await filteredRowsHash(options.lake, head, read.where)) === read.rows) {
        kept.push(`${read.zone}/${read.dataset} v${current} (${describeFilter(read.where)}: rows unchanged)`);
        continue;
      }
    }
    if (current !== read.version)
      moved.push(
        `${read.zone}/${read.dataset} v${read.version} → ${current === undefined ? "none" : `v${current}`}`,
      );
  }
  if (moved.length > 0) return rerun(moved.join(", "));
  const unchanged = record.reads.map((read) =>
    read.dataset === "*" ? `${read.zone}/*` : `${read.zone}/${read.dataset} v${read.version}`,
  );
  if (kept.length > 0) {
    const within = maxAgeMs === undefined ? "" : `, within maxAge ${formatAge(maxAgeMs)}`;
    return { target, action: "reuse", reason: `${kept.join(", ")}${within}` };
  }
  const within = maxAgeMs === undefined ? [] : [`within maxAge ${formatAge(maxAgeMs)}`];
  return {
    target,
    action: "reuse",
    reason: [...(unchanged.length > 0 ? [`${unchanged.join(", ")} unchanged`] : []), ...within].join(", "),
  };
}

function describeFilter(where: Readonly<Record<string, string>>): string {
  return Object.entries(where)
    .map(([name, value]) => `${name} = ${value}`)
    .join(", ");
}

/** `prices v3 → v4, quotes new`: what moved in a zone's listing. */
function describeListingChange(before: string | undefined, after: string): string {
  const parse = (listing: string | undefined) =>
    new Map(
      (listing ? listing.split(",") : []).map((entry) => {
        const [name, version] = entry.split("@");
        return [name!, version!] as const;
      }),
    );
  const old = parse(before);
  const now = parse(after);
  const changes: string[] = [];
  for (const [name, version] of now) {
    const previous = old.get(name);
    if (previous === undefined) changes.push(`${name} new`);
    else if (previous !== version) changes.push(`${name} v${previous} → v${version}`);
  }
  for (const name of old.keys()) if (!now.has(name)) changes.push(`${name} gone`);
  return changes.join(", ");
}

/** `name` names the loader as its output (`data/market.json`), its file or either's base name. */
export function matchesLoader(name: string, target: string, loader: FrameworkLoader): boolean {
  const file = basename(loader.path);
  const output = basename(target);
  const bare = output.replace(/\.[^.]+$/, "");
  return (
    [target, `/${target}`, loader.path, file, output, bare].includes(name) || loader.path.endsWith(`/${name}`)
  );
}

function changedInputs(before: InputHashes, after: InputHashes): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]).sort();
}

/** Records the outputs that just ran, with the inputs and reads their loaders had. */
export async function recordLoaderRuns(options: {
  readonly notebooksDir: string;
  readonly projectRoot: string;
  readonly resolver: FrameworkLoaderResolver;
  readonly ran: readonly string[];
  readonly reads: readonly RecordedRead[];
  readonly ranAt: Date;
}): Promise<void> {
  const cacheDir = cacheDirOf(options.notebooksDir);
  const records = await readRecords(cacheDir);
  const present = new Set(await cachedOutputs(cacheDir));
  for (const target of Object.keys(records)) if (!present.has(target)) delete records[target];
  for (const target of options.ran) {
    const loader = options.resolver.find(`/${target}`);
    if (!loader?.args || !present.has(target)) continue;
    const loaderFile = realpathSync(join(options.notebooksDir, loader.path));
    const maxAgeMs = declaredMaxAge(loaderFile);
    records[target] = {
      target,
      loader: relative(options.projectRoot, loaderFile),
      inputs: loaderInputHashes(loaderFile, options.projectRoot),
      reads: readsOf(loaderFile, loader, options.reads),
      ...(maxAgeMs !== undefined && { maxAgeMs }),
      ranAt: options.ranAt.toISOString(),
    };
  }
  await writeRecords(cacheDir, records);
}

/** The distinct versions the process running `loader` (same file, same parameters) read. */
function readsOf(loaderFile: string, loader: FrameworkLoader, reads: readonly RecordedRead[]): DatasetRead[] {
  const args = loader.args ?? [];
  const fileIndex = args.findIndex((arg) => arg.endsWith(loader.path));
  const params = JSON.stringify(args.slice(fileIndex + 1));
  const found = new Map<string, DatasetRead>();
  for (const read of reads) {
    const [file, ...rest] = read.argv;
    if (file === undefined || !existsSync(file) || realpathSync(file) !== loaderFile) continue;
    if (JSON.stringify(rest) !== params) continue;
    const filter = read.where ? JSON.stringify(read.where) : "";
    found.set(`${read.zone}/${read.dataset}@${read.version}@${read.listing ?? ""}@${filter}`, {
      zone: read.zone,
      dataset: read.dataset,
      version: read.version,
      ...(read.listing !== undefined && { listing: read.listing }),
      ...(read.where !== undefined && { where: read.where, rows: read.rows }),
    });
  }
  return [...found.values()];
}

/** Loader outputs in Framework's cache: every file outside its own `_`/`.` folders and temp files. */
async function cachedOutputs(cacheDir: string): Promise<string[]> {
  const entries = await readdir(cacheDir, { recursive: true, withFileTypes: true }).catch(() => []);
  const outputs: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = relative(cacheDir, join(entry.parentPath, entry.name));
    const top = path.split("/")[0]!;
    if (top.startsWith("_") || top.startsWith(".")) continue;
    // Framework's in-flight (`<name>.<pid>`) and failed (`.err`) outputs are its own to manage.
    if (/\.\d+(\.err)?$/.test(path)) continue;
    outputs.push(path);
  }
  return outputs.sort();
}

async function readRecords(cacheDir: string): Promise<Record<string, LoaderRecord>> {
  try {
    const parsed = JSON.parse(await readFile(join(cacheDir, RECORDS_FILE), "utf8")) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, LoaderRecord>) : {};
  } catch {
    return {}; // missing or damaged: every output counts as unrecorded, hence stale
  }
}

async function writeRecords(cacheDir: string, records: Record<string, LoaderRecord>): Promise<void> {
  const path = join(cacheDir, RECORDS_FILE);
  await mkdir(join(cacheDir, "_lakebook"), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(records, null, 2) + "\n");
  await rename(temp, path);
}
