/**
 * Committing a write whose data files are already stored: rebase and retry until committed.
 *
 * A writer does the expensive part once (parse, transform, write and fsync its data files under
 * keys no other write uses), then commits a manifest on the dataset's head with `commitVersion`.
 * When another writer commits first, only the cheap part is redone: re-read the new head, ask the
 * writer's `rebase` what the write means on top of it, and commit again. This repeats, with
 * jittered exponential backoff (so racing writers do not collide in lockstep), until the write
 * commits or the time budget (`Lake.commitTimeoutMs`, `LAKEBOOK_COMMIT_TIMEOUT`, 2 minutes by
 * default) runs out; a write is never lost to a fixed number of attempts.
 *
 * What stays valid across a rebase (the rules each writer's `rebase` applies):
 *
 * - Ingest (an append of one landing file to a raw dataset): the data file depends only on the
 *   landing and the spec, never on other files, so it is always valid. The rebase recomputes the
 *   file list (the new head's files plus this one), row count, bytes, landing lineage and parent,
 *   and re-checks one thing: if the new head already holds this landing (a concurrent ingest of
 *   the same bytes won), nothing is committed and this write's files are deleted.
 * - Promotion (a whole dataset rewritten from the current versions of its inputs): the output is
 *   a function of the input versions and the step, not of the output's previous version, so it
 *   stays valid when (1) every input's head is still the version it was computed from, (2) the
 *   step has no quality gate (a gate's verdict and stored result depend on the previous version:
 *   `row_count_change`, the version number it records), and (3) the schema is still compatible
 *   with the new head's (re-checked). If the new head was computed by the same step from the same
 *   inputs, the write is a duplicate: nothing is committed. Otherwise the step is recomputed from
 *   scratch on the new heads (`redo`), still within the same time budget.
 *
 * A write that does not commit (a duplicate, a redo, the budget exhausted, a rebase that refuses)
 * deletes the objects it wrote before returning, so a losing writer leaves no orphans; only a
 * crash (or an ambiguous storage error during the commit itself) leaves files, which `lake gc`
 * collects after its grace period.
 */
import { VersionConflictError } from "../errors.ts";
import type { Lake } from "./lake.ts";
import type { Manifest, ManifestDraft } from "./manifest.ts";
import type { Storage } from "./storage.ts";
import { commitVersion, maybeHead } from "./versions.ts";
import type { VersionedZone } from "./zones.ts";

export const DEFAULT_COMMIT_TIMEOUT_MS = 2 * 60 * 1000;

/** What a write means on top of a head it did not start from. */
export type RebaseDecision =
  /** Commit this manifest as the version after the head. */
  | { commit: ManifestDraft }
  /** The head already holds what this write would add: commit nothing. */
  | { unchanged: Manifest }
  /** The written data is not valid on this head: the caller must redo the write. */
  | { redo: string };

export type CommitOutcome = { manifest: Manifest; created: boolean } | { redo: string };

export interface CommitBudgetOptions {
  /** How long a write may keep rebasing before it gives up (default 2 minutes). */
  timeoutMs?: number;
  /** Clock in milliseconds, and the pause between attempts; tests replace them. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const BASE_DELAY_MS = 20;
const MAX_DELAY_MS = 2000;

/**
 * The time budget of one write: every lost race waits a random time up to an exponentially
 * growing cap ("full jitter"), and the budget turns the next lost race into an error.
 */
export class CommitBudget {
  readonly #what: string;
  readonly #timeoutMs: number;
  readonly #deadline: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  /** Commits this write lost to other writers. */
  conflicts = 0;

  constructor(what: string, options: CommitBudgetOptions = {}) {
    this.#what = what;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#deadline = this.#now() + this.#timeoutMs;
  }

  /** Records a lost race and waits before the next attempt; throws once the budget is spent. */
  async lost(conflict?: VersionConflictError): Promise<void> {
    this.conflicts++;
    const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(this.conflicts, 16));
    const delay = Math.round(this.#random() * cap);
    if (this.#now() + delay > this.#deadline) {
      throw new VersionConflictError(
        conflict?.key ?? this.#what,
        `${this.#what}: other writers committed first ${this.conflicts} times in ${Math.round(this.#timeoutMs / 1000)} s, so this write gave up (nothing of it was committed): rerun the step, or raise LAKEBOOK_COMMIT_TIMEOUT (seconds)`,
        { cause: conflict },
      );
    }
    await this.#sleep(delay);
  }
}

/** A budget for a write to `<zone>/<dataset>` of `lake`, with the lake's configured timeout. */
export function commitBudget(lake: Lake, zone: VersionedZone, dataset: string): CommitBudget {
  return new CommitBudget(`${zone}/${dataset}`, { timeoutMs: lake.commitTimeoutMs });
}

/**
 * Commits a write whose objects (`written`) are stored: reads the head, asks `rebase` what to
 * commit on it and commits, again after every lost race, until it commits, `rebase` says the
 * head already holds the write (`unchanged`) or that it must be redone (`redo`), or the budget
 * is spent. Whenever this write does not commit, the objects it wrote are deleted first.
 */
export async function commitRebasing(
  storage: Storage,
  zone: VersionedZone,
  dataset: string,
  written: string[],
  rebase: (head: Manifest | undefined) => Promise<RebaseDecision> | RebaseDecision,
  budget: CommitBudget,
): Promise<CommitOutcome> {
  // Whether the written objects must stay: committed, or possibly committed.
  let keep = false;
  try {
    for (;;) {
      const head = await maybeHead(storage, zone, dataset);
      const decision = await rebase(head);
      if ("unchanged" in decision) return { manifest: decision.unchanged, created: false };
      if ("redo" in decision) return decision;
      try {
        const manifest = await commitVersion(storage, zone, decision.commit, {
          expectedParent: head?.version ?? null,
        });
        keep = true;
        return { manifest, created: true };
      } catch (error) {
        if (!(error instanceof VersionConflictError)) {
          // Not a lost race: the manifest may or may not exist (a storage error mid-write), so
          // the files stay for gc, which never removes what a manifest names.
          keep = true;
          throw error;
        }
        await budget.lost(error);
      }
    }
  } finally {
    if (!keep) await deleteQuietly(storage, written);
  }
}

/** Deletes what an uncommitted write stored; a failure leaves the objects to gc. */
export async function deleteQuietly(storage: Storage, keys: string[]): Promise<void> {
  for (const key of keys) await storage.delete(key).catch(() => undefined);
}
