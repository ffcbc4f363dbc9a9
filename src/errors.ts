/**
 * Lakebook's error hierarchy. Every error carries a stable `code` (one of ERROR_STATUS's) that the
 * CLI maps to an exit code and the server to the HTTP status beside it; messages say what was
 * wrong and what to do, so bad input never needs a stack trace to be understood.
 */

/**
 * Every error code, with the HTTP status the server answers it with (a 5xx hides the message from
 * the client). Adding a code here is the only way to use it: the type of `LakebookError.code`
 * is this table's keys.
 */
export const ERROR_STATUS = {
  /** Invalid configuration or environment: the server's fault, not the request's. */
  CONFIG: 500,
  STORAGE: 500,
  /** Another writer committed first. */
  VERSION_CONFLICT: 409,
  DATA: 422,
  QUALITY: 422,
  /** A source (an upstream site or database) failed. */
  SOURCE: 502,
  BUILD: 500,
  CLI: 500,
  /** HttpError carries its own status; this one is never used for it. */
  HTTP: 500,
  CONFLICT: 409,
  NOT_FOUND: 404,
  INVALID_NAME: 400,
  INVALID_KEY: 400,
  /** The version was moved to the archive: restore it to read it. */
  ARCHIVED: 410,
  /** Restoring a version that is already there. */
  EXISTS: 409,
  /** A commit lock is held by another writer: retry. */
  LOCKED: 503,
  UNAVAILABLE: 503,
  NO_BUCKET: 500,
  ACCESS_DENIED: 500,
  NOTHING_TO_ROLL_BACK: 409,
  STORE_LOCKED: 503,
  /** The record store (PostgreSQL) cannot be reached: retry shortly. */
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The HTTP status for a code (500 for a code from outside Lakebook). */
export function statusOfCode(code: string): number {
  return (ERROR_STATUS as Record<string, number>)[code] ?? 500;
}

export class LakebookError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration or environment. */
export class ConfigError extends LakebookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONFIG", message, options);
  }
}

/** A storage backend failed, or a key/name addressed something it must not. */
export class StorageError extends LakebookError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? "STORAGE", message, options);
  }
}

/** Another writer committed the same version first; the caller may retry on the new head. */
export class VersionConflictError extends LakebookError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super("VERSION_CONFLICT", message, options);
    this.key = key;
  }
}

/** Input data that cannot be ingested (malformed file, wrong schema). */
export class DataError extends LakebookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("DATA", message, options);
  }
}

/** A data quality gate failed. */
export class QualityError extends LakebookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("QUALITY", message, options);
  }
}

/** A source (scraper, API, database) failed to deliver. */
export class SourceError extends LakebookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("SOURCE", message, options);
  }
}

/** The static site build failed. */
export class BuildError extends LakebookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("BUILD", message, options);
  }
}

/** An HTTP request that the server refuses; `status` is the response status. */
export class HttpError extends LakebookError {
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super("HTTP", message, options);
    this.status = status;
  }
}

/** Bad command-line usage. */
export class CliError extends LakebookError {
  readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super("CLI", message, options);
    this.exitCode = options?.exitCode ?? 2;
  }
}

export function isLakebookError(error: unknown): error is LakebookError {
  return error instanceof LakebookError;
}
