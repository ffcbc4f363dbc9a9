/**
 * "The record store cannot be reached right now": a lost or refused connection, a connect or
 * query timeout, a server shutting down. Callers may serve what they read before (see
 * server/auth/storeCache.ts) or answer 503 with Retry-After; it is never a wrong answer, so it
 * must never be read as "no rows" (no users would mean an open site).
 */
import { isLakebookError, StorageError } from "../errors.ts";

export const STORE_UNAVAILABLE = "STORE_UNAVAILABLE";

/** Socket errors of a connection that failed or broke. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** SQLSTATEs of a server that is going away or refusing connections (class 08: connection). */
const SERVER_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** What `pg` says when a connection drops or a timeout fires (it sets no code for these). */
const PG_MESSAGES = new RegExp(
  [
    "Connection terminated",
    "timeout exceeded when trying to connect",
    "Query read timeout",
    "connection error",
    "Connection closed",
    "not queryable",
  ].join("|"),
  "i",
);

export function isStoreUnavailable(error: unknown): boolean {
  if (isLakebookError(error)) return error.code === STORE_UNAVAILABLE;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (
    typeof code === "string" &&
    (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08"))
  )
    return true;
  return typeof message === "string" && PG_MESSAGES.test(message);
}

/** `error` as a STORE_UNAVAILABLE error when it is an outage; unchanged otherwise. */
export function asStoreError(error: unknown): unknown {
  if (!isStoreUnavailable(error) || isLakebookError(error)) return error;
  return storeUnavailable(error);
}

export function storeUnavailable(cause?: unknown): StorageError {
  const reason = cause instanceof Error ? ` (${cause.message})` : "";
  return new StorageError(
    `the record store cannot be reached${reason}: try again in a few seconds; ` +
      "check PostgreSQL (DATABASE_URL) if it lasts",
    { code: STORE_UNAVAILABLE, cause },
  );
}
