/** Rows of the store's tables mapped to records, so callers never see column names. */
import type {
  AuditEvent,
  BuildRecord,
  Role,
  Run,
  RunLogLine,
  RunStatus,
  Schedule,
  Session,
  User,
  WorkerRecord,
} from "./store.ts";

export type Row = Record<string, unknown>;

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

export function jsonArray(value: unknown): string[] {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

function jsonObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
}

export function toUser(row: Row): User {
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

export function toSession(row: Row): Session {
  return {
    idHash: String(row.id_hash),
    userName: String(row.user_name),
    csrfToken: String(row.csrf_token),
    createdAt: date(row.created_at),
    expiresAt: date(row.expires_at),
  };
}

export function toAudit(row: Row): AuditEvent {
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

export function toBuild(row: Row): BuildRecord {
  return {
    id: String(row.id),
    status: String(row.status) as BuildRecord["status"],
    runId: maybeString(row.run_id),
    startedAt: date(row.started_at),
    finishedAt: maybeDate(row.finished_at),
    durationMs: maybeNumber(row.duration_ms),
    dataVersions: jsonObject(row.data_versions) as Record<string, number>,
    error: maybeString(row.error),
    leaseUntil: maybeDate(row.lease_until),
  };
}

export function toRun(row: Row): Run {
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
    leaseUntil: maybeDate(row.lease_until),
    parentId: maybeString(row.parent_id),
    step: maybeString(row.step),
  };
}

export function toWorker(row: Row): WorkerRecord {
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

export function toLogLine(row: Row): RunLogLine {
  return {
    runId: String(row.run_id),
    seq: Number(row.seq),
    at: date(row.at),
    level: String(row.level),
    message: String(row.message),
  };
}

export function toSchedule(row: Row): Schedule {
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
