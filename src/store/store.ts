/**
 * The record store: users, sessions, audit events, access rules, builds, runs with their log
 * lines, and schedules. One interface, two backends that run the same SQL and migrations:
 * PostgreSQL via `pg` (`DATABASE_URL`, shared by several servers) and the embedded
 * `@electric-sql/pglite` (default, one process, data under `data/store`).
 *
 * Invariants every backend guarantees (checked by test/store/storeContract.ts):
 * - one run per schedule tick: `createRun` with a `(scheduleId, tick)` that already exists
 *   returns undefined, even when several processes race for it;
 * - a session is found only before its expiry; tokens are stored as SHA-256 hashes;
 * - a TOTP time step is accepted once per user, and never one older than the last accepted;
 * - an unfinished run or build carries a lease its process renews (`renewLease`); once the lease
 *   has expired (by the database's clock) the process is taken for dead: `recoverAbandoned`, and
 *   every `listRuns` and `listBuilds`, mark it failed with ABANDONED_ERROR;
 * - run log lines are numbered per run in the order they were appended;
 * - every run creation, run update and log line is announced to the watchers of every store on
 *   the same database and schema (this one included) once it commits, in commit order; while a
 *   watcher's connection is down (it is told so) announcements are lost, so it re-reads.
 */

export type Role = "viewer" | "analyst" | "admin";
/** A group name (users' groups, access rules): 1 to 64 letters, digits, _ and -. */
export function isGroupName(name: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name);
}

export const ROLES: readonly Role[] = ["viewer", "analyst", "admin"];

export interface User {
  readonly name: string;
  readonly role: Role;
  /** Groups named by access rules, e.g. ["finance"]. */
  readonly groups: readonly string[];
  /** `scrypt$N$r$p$salt$hash` (see server/auth/password.ts). */
  readonly passwordHash: string;
  /** The TOTP seed, encrypted with the configured secret key; null: no second factor. */
  readonly totpSeed: string | null;
  readonly failedLogins: number;
  readonly lockedUntil: Date | null;
  readonly createdAt: Date;
}

export interface NewUser {
  readonly name: string;
  readonly role: Role;
  readonly passwordHash: string;
  readonly groups?: readonly string[];
  readonly totpSeed?: string | null;
}

export interface UserPatch {
  readonly role?: Role;
  readonly groups?: readonly string[];
  readonly passwordHash?: string;
  readonly totpSeed?: string | null;
}

export interface Session {
  /** SHA-256 (hex) of the cookie token; the token itself is never stored. */
  readonly idHash: string;
  readonly userName: string;
  readonly csrfToken: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface AuditEvent {
  readonly id: number;
  readonly at: Date;
  readonly actor: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly ip: string | null;
  readonly detail: Record<string, unknown>;
}

export type NewAuditEvent = Omit<AuditEvent, "id" | "at" | "detail" | "ip" | "target" | "actor"> & {
  readonly actor?: string | null;
  readonly target?: string | null;
  readonly ip?: string | null;
  readonly detail?: Record<string, unknown>;
};

/** Who may read pages, attachments and lake files under a URL path prefix. */
export interface AccessRule {
  /** A URL path prefix such as `/finance/` or `/lake/curated/salaries/`. */
  readonly path: string;
  readonly groups: readonly string[];
}

export type BuildStatus = "running" | "succeeded" | "failed";

export interface BuildRecord {
  readonly id: string;
  readonly status: BuildStatus;
  readonly runId: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly durationMs: number | null;
  /** Curated dataset versions the build read, e.g. { prices: 3 }. */
  readonly dataVersions: Record<string, number>;
  readonly error: string | null;
  /** Until when the process building it is known alive; null once finished by older versions. */
  readonly leaseUntil: Date | null;
}

/** The error of a run or build whose process stopped renewing its lease. */
export const ABANDONED_ERROR = "abandoned: the process running it stopped";

/** Default lease of a run or build; the process renews it every quarter of it. */
export const DEFAULT_LEASE_MS = 60_000;

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out";
export const FINISHED_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "cancelled", "timed_out"];

export interface Run {
  readonly id: string;
  /** The job to run, e.g. `build` or `pipeline:market`. */
  readonly job: string;
  readonly scheduleId: string | null;
  /** The schedule tick this run is for (ISO time); null for a manual run. */
  readonly tick: string | null;
  readonly status: RunStatus;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly cancelRequested: boolean;
  readonly triggeredBy: string | null;
  readonly alertUrl: string | null;
  /** 0..1 when the job reports it. */
  readonly progress: number | null;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** The `lakebook worker` that ran (or runs) it; null: the server that created it, or not yet. */
  readonly workerId: string | null;
  /** Until when the process running it is known alive (see `Store.renewLease`). */
  readonly leaseUntil: Date | null;
  /** The run this one is a step of (a `lakebook run` fanned out to workers); null otherwise. */
  readonly parentId: string | null;
  /** The step of the parent this run executes (a graph node id, e.g. `staging.prices`). */
  readonly step: string | null;
}

export interface NewRun {
  readonly job: string;
  readonly scheduleId?: string | null;
  readonly tick?: string | null;
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  readonly triggeredBy?: string | null;
  readonly alertUrl?: string | null;
  /** The first lease (default DEFAULT_LEASE_MS): the process running it renews it until it ends. */
  readonly leaseMs?: number;
  /** With `step`: this run is that step of run `parentId` (one run per parent and step). */
  readonly parentId?: string | null;
  readonly step?: string | null;
}

export type RunPatch = Partial<
  Pick<Run, "status" | "attempt" | "progress" | "error" | "startedAt" | "finishedAt" | "cancelRequested">
>;

export interface RunLogLine {
  readonly runId: string;
  readonly seq: number;
  readonly at: Date;
  readonly level: string;
  readonly message: string;
}

/** A committed change to a run, announced to every process sharing the store. */
export interface RunChange {
  readonly runId: string;
  /** `run`: created or updated (read it with `maybeRun`); `log`: line `seq` was appended. */
  readonly kind: "run" | "log";
  /** The log line's number for `log`; null for `run`. */
  readonly seq: number | null;
}

export interface RunWatcher {
  onChange(change: RunChange): void;
  /**
   * `down`: the connection carrying announcements is lost and changes made meanwhile are not
   * announced (it reconnects); `up`: announcements flow again. Never called for the embedded store.
   */
  onState?(state: "up" | "down", error?: Error): void;
}

/** A `lakebook worker` process as its last heartbeat recorded it. */
export interface WorkerRecord {
  /** `<host>:<pid>:<random>`, unique per process start. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  /** Runs in hand at the last heartbeat. */
  readonly active: number;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  /** Set by a clean stop; a killed worker just stops heartbeating. */
  readonly stoppedAt: Date | null;
}

export type WorkerBeat = Pick<WorkerRecord, "id" | "host" | "pid" | "concurrency" | "active">;

export interface Schedule {
  readonly id: string;
  readonly name: string;
  readonly job: string;
  /** A cron pattern (croner syntax, 5 or 6 fields), evaluated in UTC. */
  readonly cron: string;
  readonly enabled: boolean;
  /** Attempts after the first one when a run fails. */
  readonly retries: number;
  readonly timeoutMs: number;
  /** Where a failed run is POSTed as JSON; null: no alert. */
  readonly alertUrl: string | null;
  readonly createdAt: Date;
}

export type NewSchedule = Pick<Schedule, "name" | "job" | "cron"> &
  Partial<Pick<Schedule, "enabled" | "retries" | "timeoutMs" | "alertUrl">>;

export interface ListOptions {
  readonly limit?: number;
}

export interface Store {
  /** "postgres" or "pglite", for logs and /readyz. */
  readonly kind: string;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;

  addUser(user: NewUser): Promise<User>;
  maybeUser(name: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  updateUser(name: string, patch: UserPatch): Promise<User | undefined>;
  removeUser(name: string): Promise<boolean>;
  /** Counts a failed login; locks the account for `lockMs` once `maxFailures` is reached. */
  recordLoginFailure(
    name: string,
    options: { now: Date; maxFailures: number; lockMs: number },
  ): Promise<void>;
  clearLoginFailures(name: string): Promise<void>;
  /**
   * Records that a TOTP code of time step `step` (Unix time / 30 s) signed `name` in; false when a
   * code of this step or a later one was accepted before (a replay), or the user does not exist.
   * Atomic: of several servers checking the same code at once, exactly one gets true.
   */
  acceptTotpStep(name: string, step: number): Promise<boolean>;

  createSession(session: Omit<Session, "createdAt">): Promise<Session>;
  /** The session and its user, when the session exists and has not expired at `now`. */
  maybeSession(idHash: string, now: Date): Promise<{ session: Session; user: User } | undefined>;
  deleteSession(idHash: string): Promise<void>;
  deleteUserSessions(userName: string): Promise<void>;
  deleteExpiredSessions(now: Date): Promise<number>;

  audit(event: NewAuditEvent): Promise<void>;
  listAudit(options?: ListOptions): Promise<AuditEvent[]>;

  setAccessRule(rule: AccessRule): Promise<void>;
  removeAccessRule(path: string): Promise<boolean>;
  listAccessRules(): Promise<AccessRule[]>;

  startBuild(build: {
    id: string;
    runId?: string | null;
    startedAt: Date;
    /** The first lease (default DEFAULT_LEASE_MS). */
    leaseMs?: number;
  }): Promise<BuildRecord>;
  finishBuild(
    id: string,
    result: Pick<BuildRecord, "status" | "finishedAt" | "durationMs" | "dataVersions" | "error">,
  ): Promise<BuildRecord | undefined>;
  maybeBuild(id: string): Promise<BuildRecord | undefined>;
  listBuilds(options?: ListOptions): Promise<BuildRecord[]>;

  /**
   * Extends an unfinished run's or build's lease to `leaseMs` from now (database clock); false
   * when it is finished (or was recovered as abandoned) or unknown.
   */
  renewLease(kind: "run" | "build", id: string, leaseMs: number): Promise<boolean>;
  /** Marks unfinished runs and builds whose lease expired failed (ABANDONED_ERROR); returns them. */
  recoverAbandoned(): Promise<{ runs: Run[]; builds: BuildRecord[] }>;

  /**
   * A new queued run; undefined when a run for the same (scheduleId, tick), or the same
   * (parentId, step), already exists.
   */
  createRun(run: NewRun): Promise<Run | undefined>;
  /** The step runs of run `parentId`, oldest first. */
  listStepRuns(parentId: string): Promise<Run[]>;
  /**
   * Marks the run failed with `error` when no process holds it: unfinished and queued, or its
   * lease expired (the queue gave up on it). Undefined when it finished or is held.
   */
  failUnheldRun(id: string, error: string): Promise<Run | undefined>;
  updateRun(id: string, patch: RunPatch): Promise<Run | undefined>;
  maybeRun(id: string): Promise<Run | undefined>;
  listRuns(options?: ListOptions & { status?: RunStatus; job?: string }): Promise<Run[]>;
  /**
   * Makes `workerId` the run's owner unless the run has finished (then undefined): a worker takes a
   * run it was handed by the queue, or takes over one whose worker stopped heartbeating.
   */
  claimRun(id: string, workerId: string): Promise<Run | undefined>;
  /** `updateRun` only while `workerId` still owns the run (undefined otherwise): a fenced write. */
  updateOwnedRun(id: string, workerId: string, patch: RunPatch): Promise<Run | undefined>;
  appendRunLog(runId: string, level: string, message: string, at?: Date): Promise<RunLogLine>;
  listRunLogs(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<RunLogLine[]>;
  /**
   * Calls `watcher` for run changes committed by any process on this store, until the returned
   * function is called or the store closes. Resolves once listening (or, when that failed, after
   * telling the watcher `down`; it keeps trying).
   */
  watchRuns(watcher: RunWatcher): Promise<() => Promise<void>>;

  /** Records a worker's heartbeat (creating its row on the first one). */
  heartbeatWorker(beat: WorkerBeat): Promise<void>;
  stopWorker(id: string): Promise<void>;
  /** Workers heard from since `since` (default: the last hour), newest heartbeat first. */
  listWorkers(options?: { since?: Date }): Promise<WorkerRecord[]>;

  addSchedule(schedule: NewSchedule): Promise<Schedule>;
  maybeSchedule(id: string): Promise<Schedule | undefined>;
  listSchedules(): Promise<Schedule[]>;
  updateSchedule(id: string, patch: Partial<NewSchedule>): Promise<Schedule | undefined>;
  removeSchedule(id: string): Promise<boolean>;
}
