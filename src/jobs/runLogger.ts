/** A pino logger whose lines become a run's log lines (secrets redacted as everywhere). */
import { Writable } from "node:stream";
import { pino } from "pino";
import { REDACTED_PATHS, type Logger } from "../logger.ts";
import type { JobContext } from "./job.ts";

const LEVELS: Record<number, "debug" | "info" | "warn" | "error"> = {
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "error",
};

export function runLogger(context: Pick<JobContext, "log">): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString("utf8").split("\n")) {
        if (!text) continue;
        try {
          const { level, msg, ...rest } = JSON.parse(text) as { level: number; msg?: string } & Record<
            string,
            unknown
          >;
          delete rest.time;
          delete rest.pid;
          delete rest.hostname;
          delete rest.name;
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
          context.log(LEVELS[level] ?? "info", `${msg ?? ""}${extra}`);
        } catch {
          context.log("info", text);
        }
      }
      callback();
    },
  });
  return pino({ level: "info", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, sink);
}
