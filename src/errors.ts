/**
 * Lakebook's error hierarchy. Every error carries a stable `code` that the CLI maps to an exit
 * code and the server to an HTTP status; messages say what was wrong and what to do, so bad input
 * never needs a stack trace to be understood.
 */
export class LakebookError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
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
