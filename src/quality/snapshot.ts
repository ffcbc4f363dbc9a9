/**
 * Quality-aware snapshots for loaders: the newest version that did not fail its quality checks,
 * with the quality status a page shows beside the data. When the newest validation of the
 * dataset (or of a dataset it is derived from) failed, the snapshot is the last good version and
 * `quality.warning` says so; in strict mode (`lakebook build --strict`) that is an error instead,
 * so no report is built from stale data without anyone noticing.
 */
import { QualityError } from "../errors.ts";
import { type Lake, type VersionedZone, maybeHead } from "../lake/index.ts";
import { type RowFilter, type Snapshot, readSnapshot } from "../pipeline/index.ts";
import { type StoredValidation, latestGoodVersion, latestValidation, readValidation } from "./results.ts";

export interface SnapshotQuality {
  /** The shown version's quality: its newest validation's status, or `unchecked`. */
  status: "pass" | "warn" | "fail" | "unchecked";
  zone: VersionedZone;
  dataset: string;
  /** The version the snapshot holds. */
  version: number;
  /** The dataset's newest version, which may have failed and be skipped. */
  headVersion: number;
  validatedAt: string | null;
  /** Key of the shown version's validation result in the lake. */
  key: string | null;
  /** Set when newer data failed its checks and the page shows older data. */
  warning: string | null;
}

export interface CheckedSnapshot {
  snapshot: Snapshot;
  quality: SnapshotQuality;
}

export async function readCheckedSnapshot(
  lake: Lake,
  zone: VersionedZone,
  dataset: string,
  options: { strict?: boolean; where?: RowFilter } = {},
): Promise<CheckedSnapshot> {
  const head = await maybeHead(lake.storage, zone, dataset);
  if (!head)
    throw new QualityError(
      `${zone}/${dataset} has no version yet: run \`lakebook run +${zone}.${dataset}\` first`,
    );
  const good = await latestGoodVersion(lake, zone, dataset);
  if (!good) {
    throw new QualityError(
      `no version of ${zone}/${dataset} passed its quality checks: fix the data or the suite, then rerun the pipeline (see 'lakebook validate ${zone}/${dataset}')`,
    );
  }
  const failures: string[] = [];
  const latest = await latestValidation(lake, zone, dataset);
  if (latest && latest.status === "fail") failures.push(describeFailure(latest));
  for (const upstream of await failedUpstream(lake, good.lineage.inputs, new Set([`${zone}/${dataset}`]))) {
    failures.push(describeFailure(upstream));
  }
  const warning =
    failures.length === 0
      ? null
      : `Newer data did not pass its quality checks, so this page shows ${zone}/${dataset} version ${good.version}` +
        `${good.version === head.version ? "" : ` (the newest is version ${head.version})`}: ${failures.join("; ")}.`;
  if (warning && options.strict) {
    throw new QualityError(
      `strict build: ${warning} Fix the data or build without --strict to publish with a warning`,
    );
  }
  const shown = await readValidation(lake, zone, dataset, good.version);
  const snapshot = await readSnapshot(lake, zone, dataset, {
    version: good.version,
    ...(options.where && { where: options.where }),
  });
  return {
    snapshot,
    quality: {
      status: shown?.status ?? "unchecked",
      zone,
      dataset,
      version: good.version,
      headVersion: head.version,
      validatedAt: shown?.validatedAt ?? null,
      key: shown ? `${zone}/${dataset}/_quality/${shown.runId}.json` : null,
      warning,
    },
  };
}

function describeFailure(run: StoredValidation): string {
  const failed = run.results.filter((r) => !r.success && r.severity === "fail").map((r) => r.expectation);
  return `${run.zone}/${run.dataset} ${run.kind === "gate" ? "candidate" : `version ${run.version}`} failed ${failed.join(", ")} on ${run.validatedAt.slice(0, 16).replace("T", " ")} UTC`;
}

/** Datasets this version derives from (transitively) whose newest validation failed. */
async function failedUpstream(
  lake: Lake,
  inputs: { zone: string; dataset: string }[],
  seen: Set<string>,
): Promise<StoredValidation[]> {
  const failed: StoredValidation[] = [];
  for (const input of inputs) {
    const id = `${input.zone}/${input.dataset}`;
    if (seen.has(id) || input.zone === "landing") continue;
    seen.add(id);
    const zone = input.zone as VersionedZone;
    const latest = await latestValidation(lake, zone, input.dataset);
    if (latest?.status === "fail") failed.push(latest);
    const head = await maybeHead(lake.storage, zone, input.dataset);
    if (head) failed.push(...(await failedUpstream(lake, head.lineage.inputs, seen)));
  }
  return failed;
}
