/**
 * The one logger. JSON lines when not on a terminal; secrets are redacted by path so a cookie,
 * password or token can never reach a log file even when a caller logs a whole object.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "cookie",
  "*.cookie",
  "cookies",
  "*.cookies",
  "totpSeed",
  "*.totpSeed",
  "authorization",
  "*.authorization",
  "req.headers.cookie",
  "req.headers.authorization",
];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? "lakebook",
    level: options.level ?? process.env.LAKEBOOK_LOG_LEVEL ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  });
}

/** A logger that writes nothing, for tests and library callers that bring their own. */
export const silentLogger: Logger = pino({ level: "silent" });
