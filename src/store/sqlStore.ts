/**
 * The `Store` over any `SqlClient`: the same SQL for PostgreSQL and PGlite. Values are always
 * bound as parameters; rows are mapped to records here so callers never see column names.
 */
import { randomBytes } from "node:crypto";
import { StorageError } from "../errors.ts";
import { announced, maybeRunChange, RUNS_CHANNEL } from "./runChanges.ts";
import type { SqlClient } from "./sqlClient.ts";
import {
  jsonArray,
  toAudit,
  toBuild,
  toLogLine,
  toRun,
  toSchedule,
  toSession,
  toUser,
  toWorker,
  type Row,
} from "./rows.ts";
import {
  ABANDONED_ERROR,
  DEFAULT_LEASE_MS,
  type AccessRule,
  type Run,
  type RunPatch,
  type Store,
} from "./store.ts";

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
    async acceptTotpStep(name, step) {
      const accepted = await client.query(
        `UPDATE users SET totp_last_step = $2
         WHERE name = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING name`,
        [name, step],
      );
      return accepted.length > 0;
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
        `INSERT INTO builds (id, status, run_id, started_at, lease_until)
         VALUES ($1, 'running', $2, $3, now() + ($4 || ' milliseconds')::interval) RETURNING *`,
        [build.id, build.runId ?? null, build.startedAt, String(build.leaseMs ?? DEFAULT_LEASE_MS)],
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
      await this.recoverAbandoned();
      const rows = await client.query<Row>(
        "SELECT * FROM builds ORDER BY started_at DESC, id DESC LIMIT $1",
        [limitOf(options.limit)],
      );
      return rows.map(toBuild);
    },

    async createRun(run) {
      const row = await one(
        announced(
          `INSERT INTO runs (id, job, schedule_id, tick, status, max_attempts, timeout_ms, triggered_by, alert_url,
             lease_until, parent_id, step)
           VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, now() + ($9 || ' milliseconds')::interval, $10, $11)
           ON CONFLICT DO NOTHING RETURNING *`,
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
          String(run.leaseMs ?? DEFAULT_LEASE_MS),
          run.parentId ?? null,
          run.step ?? null,
        ],
      );
      return row && toRun(row);
    },
    async listStepRuns(parentId) {
      const rows = await client.query<Row>(
        "SELECT * FROM runs WHERE parent_id = $1 ORDER BY created_at, id",
        [parentId],
      );
      return rows.map(toRun);
    },
    async failUnheldRun(id, error) {
      const row = await one(
        announced(
          `UPDATE runs SET status = 'failed', error = $2, finished_at = now()
           WHERE id = $1 AND finished_at IS NULL AND (status = 'queued' OR lease_until < now())
           RETURNING *`,
          "run",
        ),
        [id, error],
      );
      return row && toRun(row);
    },
    async renewLease(kind, id, leaseMs) {
      // Only constants go into the SQL text: the table and what "unfinished" means for it.
      const [table, unfinished] =
        kind === "run" ? ["runs", "finished_at IS NULL"] : ["builds", "status = 'running'"];
      const rows = await client.query(
        `UPDATE ${table} SET lease_until = now() + ($2 || ' milliseconds')::interval
         WHERE id = $1 AND ${unfinished} RETURNING id`,
        [id, String(Math.max(1, Math.trunc(leaseMs)))],
      );
      return rows.length > 0;
    },
    async recoverAbandoned() {
      const runs = await client.query<Row>(
        announced(
          `UPDATE runs SET status = 'failed', error = $1, finished_at = now()
           WHERE finished_at IS NULL AND lease_until < now() RETURNING *`,
          "run",
        ),
        [ABANDONED_ERROR],
      );
      const builds = await client.query<Row>(
        `UPDATE builds SET status = 'failed', error = $1, finished_at = now(),
           duration_ms = (extract(epoch FROM now() - started_at) * 1000)::integer
         WHERE status = 'running' AND lease_until < now() RETURNING *`,
        [ABANDONED_ERROR],
      );
      return { runs: runs.map(toRun), builds: builds.map(toBuild) };
    },
    updateRun(id, patch) {
      return updateRunWhere(id, null, patch);
    },
    updateOwnedRun(id, workerId, patch) {
      return updateRunWhere(id, workerId, patch);
    },
    async claimRun(id, workerId) {
      const row = await one(
        announced(
          `UPDATE runs SET worker_id = $2, lease_until = now() + ($3 || ' milliseconds')::interval
           WHERE id = $1 AND finished_at IS NULL RETURNING *`,
          "run",
        ),
        [id, workerId, String(DEFAULT_LEASE_MS)],
      );
      return row && toRun(row);
    },
    async maybeRun(id) {
      const row = await one("SELECT * FROM runs WHERE id = $1", [id]);
      return row && toRun(row);
    },
    async listRuns(options = {}) {
      await this.recoverAbandoned();
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
