/**
 * The `Store` over any `SqlClient`: the same SQL for PostgreSQL and PGlite. Values are always
 * bound as parameters; rows are mapped to records here so callers never see column names.
 */
import { randomBytes } from "node:crypto";
import { StorageError } from "../errors.ts";
import { announced, maybeRunChange, RUNS_CHANNEL } from "./runChanges.ts";
import type { SqlClient } from "./sqlClient.ts";
import type {
  AccessRule,
  AuditEvent,
  BuildRecord,
  Role,
  Run,
  RunLogLine,
  RunPatch,
  RunStatus,
  Schedule,
  Session,
  Store,
  User,
  WorkerRecord,
} from "./store.ts";

type Row = Record<string, unknown>;

const MAX_LIST = 1000;

export function createSqlStore(client: SqlClient, kind: string): Store {
  const one = async (sql: string, params: readonly unknown[] = []): Promise<Row | undefined> =>
    (await client.query<Row>(sql, params))[0];
  const limitOf = (limit: number | undefined, fallback = 100): number =>
    Math.max(1, Math.min(MAX_LIST, Math.trunc(limit ?? fallback)));

  const updateRunWhere = async (
    id: string,
    workerId: string | null,
    patch: RunPatch,
  ): Promise<Run | undefined> => {
    const sets: string[] = [];
    const params: unknown[] = [id, workerId];
    const columns: Record<string, string> = {
      status: "status",
      attempt: "attempt",
      progress: "progress",
      error: "error",
      startedAt: "started_at",
      finishedAt: "finished_at",
      cancelRequested: "cancel_requested",
    };
    for (const [key, column] of Object.entries(columns)) {
      const value = (patch as Record<string, unknown>)[key];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    const owned = "($2::text IS NULL OR worker_id = $2)";
    if (sets.length === 0) {
      const row = await one(`SELECT * FROM runs WHERE id = $1 AND ${owned}`, params);
      return row && toRun(row);
    }
    const row = await one(
      announced(`UPDATE runs SET ${sets.join(", ")} WHERE id = $1 AND ${owned} RETURNING *`, "run"),
      params,
    );
    return row && toRun(row);
  };

  return {
    kind,
    async ping() {
      await client.query("SELECT 1");
    },
    close: () => client.close(),

    async addUser(user) {
      const row = await one(
        `INSERT INTO users (name, role, groups, password_hash, totp_seed) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO NOTHING RETURNING *`,
        [user.name, user.role, JSON.stringify(user.groups ?? []), user.passwordHash, user.totpSeed ?? null],
      );
      if (!row) {
        throw new StorageError(`user '${user.name}' already exists: use 'lakebook user grant' to change it`, {
          code: "CONFLICT",
        });
      }
      return toUser(row);
    },
    async maybeUser(name) {
      const row = await one("SELECT * FROM users WHERE name = $1", [name]);
      return row && toUser(row);
    },
    async listUsers() {
      return (await client.query<Row>("SELECT * FROM users ORDER BY name")).map(toUser);
    },
    async countUsers() {
      return Number((await one("SELECT count(*)::integer AS n FROM users"))?.n ?? 0);
    },
    async updateUser(name, patch) {
      const row = await one(
        `UPDATE users SET
           role = COALESCE($2, role),
           groups = COALESCE($3, groups),
           password_hash = COALESCE($4, password_hash),
           totp_seed = CASE WHEN $5 THEN $6 ELSE totp_seed END
         WHERE name = $1 RETURNING *`,
        [
          name,
          patch.role ?? null,
          patch.groups ? JSON.stringify(patch.groups) : null,
          patch.passwordHash ?? null,
          patch.totpSeed !== undefined,
          patch.totpSeed ?? null,
        ],
      );
      return row && toUser(row);
    },
    async removeUser(name) {
      return (await client.query("DELETE FROM users WHERE name = $1 RETURNING name", [name])).length > 0;
    },
    async recordLoginFailure(name, { now, maxFailures, lockMs }) {
      await client.query(
        // A lock that has expired starts a fresh count, so one typo afterwards does not re-lock.
        `UPDATE users SET
           failed_logins = CASE WHEN locked_until <= $2 THEN 1 ELSE failed_logins + 1 END,
           locked_until = CASE
             WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_logins + 1 END) >= $3
               THEN $2::timestamptz + ($4 || ' milliseconds')::interval
             WHEN locked_until <= $2 THEN NULL
             ELSE locked_until END
         WHERE name = $1`,
        [name, now, maxFailures, String(lockMs)],
      );
    },
    async clearLoginFailures(name) {
      await client.query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = $1", [name]);
    },

    async createSession(session) {
      const row = await one(
        `INSERT INTO sessions (id_hash, user_name, csrf_token, expires_at) VALUES ($1, $2, $3, $4) RETURNING *`,
        [session.idHash, session.userName, session.csrfToken, session.expiresAt],
      );
      return toSession(row!);
    },
    async maybeSession(idHash, now) {
      const row = await one(
        `SELECT s.id_hash, s.user_name, s.csrf_token, s.created_at AS session_created_at, s.expires_at, u.*
         FROM sessions s JOIN users u ON u.name = s.user_name
         WHERE s.id_hash = $1 AND s.expires_at > $2`,
        [idHash, now],
      );
      if (!row) return undefined;
      return { session: toSession({ ...row, created_at: row.session_created_at }), user: toUser(row) };
    },
    async deleteSession(idHash) {
      await client.query("DELETE FROM sessions WHERE id_hash = $1", [idHash]);
    },
    async deleteUserSessions(userName) {
      await client.query("DELETE FROM sessions WHERE user_name = $1", [userName]);
    },
    async deleteExpiredSessions(now) {
      return (await client.query("DELETE FROM sessions WHERE expires_at <= $1 RETURNING id_hash", [now]))
        .length;
    },

    async audit(event) {
      await client.query(
        "INSERT INTO audit_events (actor, action, target, ip, detail) VALUES ($1, $2, $3, $4, $5)",
        [
          event.actor ?? null,
          event.action,
          event.target ?? null,
          event.ip ?? null,
          JSON.stringify(event.detail ?? {}),
        ],
      );
    },
    async listAudit(options = {}) {
      const rows = await client.query<Row>("SELECT * FROM audit_events ORDER BY id DESC LIMIT $1", [
        limitOf(options.limit),
      ]);
      return rows.map(toAudit);
    },

    async setAccessRule(rule) {
      await client.query(
        `INSERT INTO access_rules (path, groups) VALUES ($1, $2)
         ON CONFLICT (path) DO UPDATE SET groups = EXCLUDED.groups`,
        [rule.path, JSON.stringify(rule.groups)],
      );
    },
    async removeAccessRule(path) {
      return (
        (await client.query("DELETE FROM access_rules WHERE path = $1 RETURNING path", [path])).length > 0
      );
    },
    async listAccessRules() {
      const rows = await client.query<Row>("SELECT * FROM access_rules ORDER BY path");
      return rows.map((row): AccessRule => ({ path: String(row.path), groups: jsonArray(row.groups) }));
    },

    async startBuild(build) {
      const row = await one(
        `INSERT INTO builds (id, status, run_id, started_at) VALUES ($1, 'running', $2, $3) RETURNING *`,
        [build.id, build.runId ?? null, build.startedAt],
      );
      return toBuild(row!);
    },
    async finishBuild(id, result) {
      const row = await one(
        `UPDATE builds SET status = $2, finished_at = $3, duration_ms = $4, data_versions = $5, error = $6
         WHERE id = $1 RETURNING *`,
        [
          id,
          result.status,
          result.finishedAt,
          result.durationMs,
          JSON.stringify(result.dataVersions),
          result.error,
        ],
      );
      return row && toBuild(row);
    },
    async maybeBuild(id) {
      const row = await one("SELECT * FROM builds WHERE id = $1", [id]);
      return row && toBuild(row);
    },
    async listBuilds(options = {}) {
      const rows = await client.query<Row>(
        "SELECT * FROM builds ORDER BY started_at DESC, id DESC LIMIT $1",
        [limitOf(options.limit)],
      );
      return rows.map(toBuild);
    },

    async createRun(run) {
      const row = await one(
        announced(
          `INSERT INTO runs (id, job, schedule_id, tick, status, max_attempts, timeout_ms, triggered_by, alert_url)
           VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8)
           ON CONFLICT (schedule_id, tick) DO NOTHING RETURNING *`,
          "run",
        ),
        [
          newRunId(),
          run.job,
          run.scheduleId ?? null,
          run.tick ?? null,
          run.maxAttempts ?? 1,
          run.timeoutMs ?? 30 * 60_000,
          run.triggeredBy ?? null,
          run.alertUrl ?? null,
        ],
      );
      return row && toRun(row);
    },
    updateRun(id, patch) {
      return updateRunWhere(id, null, patch);
    },
    updateOwnedRun(id, workerId, patch) {
      return updateRunWhere(id, workerId, patch);
    },
    async claimRun(id, workerId) {
      const row = await one(
        announced("UPDATE runs SET worker_id = $2 WHERE id = $1 AND finished_at IS NULL RETURNING *", "run"),
        [id, workerId],
      );
      return row && toRun(row);
    },
    async maybeRun(id) {
      const row = await one("SELECT * FROM runs WHERE id = $1", [id]);
      return row && toRun(row);
    },
    async listRuns(options = {}) {
      const rows = await client.query<Row>(
        `SELECT * FROM runs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR job = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3`,
        [options.status ?? null, options.job ?? null, limitOf(options.limit)],
      );
      return rows.map(toRun);
    },
    async appendRunLog(runId, level, message, at = new Date()) {
      const row = await one(
        announced(
          `INSERT INTO run_logs (run_id, seq, at, level, message)
           VALUES ($1, (SELECT COALESCE(max(seq), 0) + 1 FROM run_logs WHERE run_id = $1), $2, $3, $4)
           RETURNING *`,
          "log",
        ),
        [runId, at, level, message],
      );
      return toLogLine(row!);
    },
    async listRunLogs(runId, options = {}) {
      const rows = await client.query<Row>(
        "SELECT * FROM run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        [runId, options.afterSeq ?? 0, Math.max(1, Math.min(10_000, options.limit ?? 10_000))],
      );
      return rows.map(toLogLine);
    },
    async watchRuns(watcher) {
      // The schema whose changes are ours: the one this store's statements announce.
      const schema = String((await one("SELECT current_schema() AS schema"))?.schema);
      return client.listen(RUNS_CHANNEL, {
        onPayload(payload) {
          const change = maybeRunChange(payload, schema);
          if (change) watcher.onChange(change);
        },
        onState: (state, error) => watcher.onState?.(state, error),
      });
    },

    async heartbeatWorker(beat) {
      await client.query(
        `INSERT INTO workers (id, host, pid, concurrency, active) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET active = EXCLUDED.active, heartbeat_at = now(), stopped_at = NULL`,
        [beat.id, beat.host, beat.pid, beat.concurrency, beat.active],
      );
    },
    async stopWorker(id) {
      await client.query("UPDATE workers SET stopped_at = now(), active = 0 WHERE id = $1", [id]);
    },
    async listWorkers(options = {}) {
      const rows = await client.query<Row>(
        "SELECT * FROM workers WHERE heartbeat_at >= $1 ORDER BY heartbeat_at DESC, id LIMIT 200",
        [options.since ?? new Date(Date.now() - 3600_000)],
      );
      return rows.map(toWorker);
    },

    async addSchedule(schedule) {
      const row = await one(
        `INSERT INTO schedules (id, name, job, cron, enabled, retries, timeout_ms, alert_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING RETURNING *`,
        [
          `s-${randomBytes(6).toString("hex")}`,
          schedule.name,
          schedule.job,
          schedule.cron,
          schedule.enabled ?? true,
          schedule.retries ?? 0,
          schedule.timeoutMs ?? 30 * 60_000,
          schedule.alertUrl ?? null,
        ],
      );
      if (!row) {
        throw new StorageError(`a schedule named '${schedule.name}' already exists: pick another name`, {
          code: "CONFLICT",
        });
      }
      return toSchedule(row);
    },
    async maybeSchedule(id) {
      const row = await one("SELECT * FROM schedules WHERE id = $1", [id]);
      return row && toSchedule(row);
    },
    async listSchedules() {
      return (await client.query<Row>("SELECT * FROM schedules ORDER BY name")).map(toSchedule);
    },
    async updateSchedule(id, patch) {
      const row = await one(
        `UPDATE schedules SET
           name = COALESCE($2, name), job = COALESCE($3, job), cron = COALESCE($4, cron),
           enabled = COALESCE($5, enabled), retries = COALESCE($6, retries),
           timeout_ms = COALESCE($7, timeout_ms), alert_url = CASE WHEN $8 THEN $9 ELSE alert_url END
         WHERE id = $1 RETURNING *`,
        [
          id,
          patch.name ?? null,
          patch.job ?? null,
          patch.cron ?? null,
          patch.enabled ?? null,
          patch.retries ?? null,
          patch.timeoutMs ?? null,
          patch.alertUrl !== undefined,
          patch.alertUrl ?? null,
        ],
      );
      return row && toSchedule(row);
    },
    async removeSchedule(id) {
      return (await client.query("DELETE FROM schedules WHERE id = $1 RETURNING id", [id])).length > 0;
    },
  };
}

/** A run id that sorts by creation time: `r-<ms, base36>-<random>`. */
function newRunId(): string {
  return `r-${Date.now().toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}`;
}

function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function maybeDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

function maybeString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function maybeNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function jsonArray(value: unknown): string[] {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

function jsonObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
}

function toUser(row: Row): User {
  return {
    name: String(row.name),
    role: String(row.role) as Role,
    groups: jsonArray(row.groups),
    passwordHash: String(row.password_hash),
    totpSeed: maybeString(row.totp_seed),
    failedLogins: Number(row.failed_logins),
    lockedUntil: maybeDate(row.locked_until),
    createdAt: date(row.created_at),
  };
}

function toSession(row: Row): Session {
  return {
    idHash: String(row.id_hash),
    userName: String(row.user_name),
    csrfToken: String(row.csrf_token),
    createdAt: date(row.created_at),
    expiresAt: date(row.expires_at),
  };
}

function toAudit(row: Row): AuditEvent {
  return {
    id: Number(row.id),
    at: date(row.at),
    actor: maybeString(row.actor),
    action: String(row.action),
    target: maybeString(row.target),
    ip: maybeString(row.ip),
    detail: jsonObject(row.detail),
  };
}

function toBuild(row: Row): BuildRecord {
  return {
    id: String(row.id),
    status: String(row.status) as BuildRecord["status"],
    runId: maybeString(row.run_id),
    startedAt: date(row.started_at),
    finishedAt: maybeDate(row.finished_at),
    durationMs: maybeNumber(row.duration_ms),
    dataVersions: jsonObject(row.data_versions) as Record<string, number>,
    error: maybeString(row.error),
  };
}

function toRun(row: Row): Run {
  return {
    id: String(row.id),
    job: String(row.job),
    scheduleId: maybeString(row.schedule_id),
    tick: maybeString(row.tick),
    status: String(row.status) as RunStatus,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    timeoutMs: Number(row.timeout_ms),
    cancelRequested: Boolean(row.cancel_requested),
    triggeredBy: maybeString(row.triggered_by),
    alertUrl: maybeString(row.alert_url),
    progress: maybeNumber(row.progress),
    error: maybeString(row.error),
    createdAt: date(row.created_at),
    startedAt: maybeDate(row.started_at),
    finishedAt: maybeDate(row.finished_at),
    workerId: maybeString(row.worker_id),
  };
}

function toWorker(row: Row): WorkerRecord {
  return {
    id: String(row.id),
    host: String(row.host),
    pid: Number(row.pid),
    concurrency: Number(row.concurrency),
    active: Number(row.active),
    startedAt: date(row.started_at),
    heartbeatAt: date(row.heartbeat_at),
    stoppedAt: maybeDate(row.stopped_at),
  };
}

function toLogLine(row: Row): RunLogLine {
  return {
    runId: String(row.run_id),
    seq: Number(row.seq),
    at: date(row.at),
    level: String(row.level),
    message: String(row.message),
  };
}

function toSchedule(row: Row): Schedule {
  return {
    id: String(row.id),
    name: String(row.name),
    job: String(row.job),
    cron: String(row.cron),
    enabled: Boolean(row.enabled),
    retries: Number(row.retries),
    timeoutMs: Number(row.timeout_ms),
    alertUrl: maybeString(row.alert_url),
    createdAt: date(row.created_at),
  };
}
