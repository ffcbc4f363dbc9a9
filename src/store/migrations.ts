/**
 * Versioned schema migrations, run on every start. Each entry is applied once, in order, inside
 * one transaction holding an advisory lock, so several servers starting together on the same
 * PostgreSQL apply each migration exactly once. Never edit a released migration: add the next one.
 */
import type { SqlClient } from "./sqlClient.ts";

export const MIGRATIONS: readonly {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}[] = [
  {
    version: 1,
    name: "users, sessions, audit, access rules, builds, runs, schedules",
    sql: `
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
  groups JSONB NOT NULL DEFAULT '[]',
  password_hash TEXT NOT NULL,
  totp_seed TEXT,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE TABLE audit_events (
  id SERIAL PRIMARY KEY,
  at TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor TEXT,
  action TEXT NOT NULL,
  target TEXT,
  ip TEXT,
  detail JSONB NOT NULL DEFAULT '{}'
);
CREATE TABLE access_rules (
  path TEXT PRIMARY KEY,
  groups JSONB NOT NULL
);
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  job TEXT NOT NULL,
  cron TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  retries INTEGER NOT NULL DEFAULT 0,
  timeout_ms INTEGER NOT NULL,
  alert_url TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  schedule_id TEXT REFERENCES schedules (id) ON DELETE SET NULL,
  tick TEXT,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 1,
  timeout_ms INTEGER NOT NULL,
  cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
  triggered_by TEXT,
  alert_url TEXT,
  progress DOUBLE PRECISION,
  error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ
);
-- One run per schedule tick, whichever server process claims it first.
CREATE UNIQUE INDEX runs_schedule_tick ON runs (schedule_id, tick);
CREATE INDEX runs_created_at ON runs (created_at DESC);
CREATE TABLE run_logs (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT now(),
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE builds (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  run_id TEXT REFERENCES runs (id) ON DELETE SET NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  duration_ms INTEGER,
  data_versions JSONB NOT NULL DEFAULT '{}',
  error TEXT
);
`,
  },
  {
    version: 2,
    name: "users: the last accepted TOTP time step (a code is accepted once)",
    sql: `
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
`,
  },
  {
    version: 3,
    name: "runs and builds: a lease their process renews while it works on them",
    sql: `
ALTER TABLE runs ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE builds ADD COLUMN lease_until TIMESTAMPTZ;
-- Records left unfinished before leases existed get one lease to be renewed, or be recovered.
UPDATE runs SET lease_until = now() + interval '10 minutes' WHERE finished_at IS NULL;
UPDATE builds SET lease_until = now() + interval '10 minutes' WHERE status = 'running';
`,
  },
  {
    version: 4,
    name: "workers: which worker runs a run, and each worker's heartbeat",
    sql: `
ALTER TABLE runs ADD COLUMN worker_id TEXT;
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 0,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  stopped_at TIMESTAMPTZ
);
CREATE INDEX workers_heartbeat_at ON workers (heartbeat_at DESC);
`,
  },
  {
    version: 5,
    name: "runs: the steps of a run fanned out to workers, one run each under their parent",
    sql: `
ALTER TABLE runs ADD COLUMN parent_id TEXT REFERENCES runs (id) ON DELETE CASCADE;
ALTER TABLE runs ADD COLUMN step TEXT;
-- One run per step of a parent, whichever worker finishing an upstream step creates it first.
CREATE UNIQUE INDEX runs_parent_step ON runs (parent_id, step);
`,
  },
];

/** A fixed key for `pg_advisory_xact_lock`: "lake" in ASCII. */
const MIGRATION_LOCK = 0x6c616b65;

/** Applies the migrations `client` has not seen yet; returns the versions applied now. */
export async function migrate(client: SqlClient): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::integer)", [MIGRATION_LOCK]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INTEGER PRIMARY KEY,
         name TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    );
    const done = new Set(
      (await tx.query<{ version: number }>("SELECT version FROM schema_migrations")).map(
        (row) => row.version,
      ),
    );
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** Statements of a migration (they contain no `;` inside literals), comments dropped. */
function splitStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n")
    .split(";")
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "");
}
