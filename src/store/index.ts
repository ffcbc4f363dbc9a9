/** The record store: see store.ts for the interface and its invariants. */
export type {
  AccessRule,
  AuditEvent,
  BuildRecord,
  BuildStatus,
  ListOptions,
  NewAuditEvent,
  NewRun,
  NewSchedule,
  NewUser,
  Role,
  Run,
  RunChange,
  RunLogLine,
  RunPatch,
  RunStatus,
  RunWatcher,
  Schedule,
  Session,
  Store,
  User,
  UserPatch,
  WorkerBeat,
  WorkerRecord,
} from "./store.ts";
export { ABANDONED_ERROR, DEFAULT_LEASE_MS, FINISHED_RUN_STATUSES, ROLES, isGroupName } from "./store.ts";
export { createStore, EMBEDDED_STORE_DIR, openStore, type StoreOptions } from "./openStore.ts";
export { MIGRATIONS } from "./migrations.ts";
export { keepLeased } from "./lease.ts";
export { quoteIdentifier } from "./sqlClient.ts";
export { isStoreUnavailable, STORE_UNAVAILABLE, storeUnavailable } from "./unavailable.ts";
