/**
 * The one logger. JSON lines when not on a terminal; secrets are redacted by path so a cookie,
 * password or token can never reach a log file even when a caller logs a whole object.
 */
import { pino, type Logger } from "pino";
import { activeTraceIds } from "./telemetry/index.ts";

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

export function createLogger(
  options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const destination = options.destination ?? process.stdout;
  const settings = {
    name: options.name ?? "lakebook",
    level: options.level ?? process.env.LAKEBOOK_LOG_LEVEL ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    // trace_id and span_id of the active span (OpenTelemetry), to find a log line's trace.
    mixin: () => activeTraceIds() ?? {},
  };
  const onTerminal = (destination as { isTTY?: boolean }).isTTY === true;
  return onTerminal ? pino(settings, readableLines(destination)) : pino(settings, destination as never);
}

const LEVELS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
const INTERNAL_FIELDS = new Set(["level", "time", "pid", "hostname", "name", "msg"]);

/** On a terminal: `12:00:01 info site built and published dir=… durationMs=…`, one line each. */
function readableLines(destination: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const time = new Date(Number(entry.time)).toISOString().slice(11, 19);
      const fields = Object.entries(entry)
        .filter(([key]) => !INTERNAL_FIELDS.has(key))
        .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
      destination.write(
        `${time} ${LEVELS[Number(entry.level)] ?? entry.level} ${entry.msg ?? ""} ${fields.join(" ")}\n`,
      );
    },
  };
}

/** A logger that writes nothing, for tests and library callers that bring their own. */
export const silentLogger: Logger = pino({ level: "silent" });
