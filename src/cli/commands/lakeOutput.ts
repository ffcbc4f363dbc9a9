/**
 * Shared plumbing of the lake commands (ingest, promote, lake ...): argument parsing helpers,
 * `--json` output for machines, and progress lines on stderr only when it is a terminal.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { type Lake, type VersionedZone, createLake, normalizeName } from "../../lake/index.ts";

export interface Output {
  readonly json: boolean;
  /** A progress line: shown on a terminal, never in --json mode or when piped. */
  progress(line: string): void;
  /** The human result line(s). */
  print(line: string): void;
  /** The machine result (only in --json mode). */
  result(value: unknown, human: () => void): void;
}

export function createOutput(
  json: boolean,
  streams = { stdout: process.stdout, stderr: process.stderr },
): Output {
  return {
    json,
    progress(line) {
      if (!json && streams.stderr.isTTY) streams.stderr.write(`… ${line}\n`);
    },
    print(line) {
      streams.stdout.write(`${line}\n`);
    },
    result(value, human) {
      if (json) streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else human();
    },
  };
}

export function openLake(): Lake {
  return createLake(configFromEnv());
}

/** parseArgs with usage errors as CliError (exit 2), naming the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message}; run 'lakebook ${command} --help'`, { cause: error });
  }
}

const ZONE_NAMES = ["raw", "staging", "curated"];

/** `<zone>/<dataset>` with an optional `@<version>`, e.g. `curated/prices@3`. */
export function parseDatasetRef(
  ref: string | undefined,
  command: string,
): {
  zone: VersionedZone;
  dataset: string;
  version?: number;
} {
  const match = ref === undefined ? null : /^([a-z]+)\/([^@/]+)(?:@(\d+))?$/.exec(ref);
  if (!match || !ZONE_NAMES.includes(match[1]!)) {
    throw new CliError(
      `expected <zone>/<dataset> with zone raw, staging or curated (e.g. curated/prices), got '${ref ?? ""}'; run 'lakebook ${command} --help'`,
    );
  }
  return {
    zone: match[1] as VersionedZone,
    dataset: normalizeName(match[2]),
    ...(match[3] !== undefined && { version: Number(match[3]) }),
  };
}

export function parseVersion(value: string | undefined, command: string): number {
  const version = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || version < 1) {
    throw new CliError(
      `expected a version number (1, 2, ...), got '${value ?? ""}'; run 'lakebook ${command} --help'`,
    );
  }
  return version;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `15m`, `10s` or `0` to milliseconds. */
export function parseDuration(value: string, option: string): number {
  if (value === "0") return 0;
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new CliError(`${option} takes a duration like 30d, 12h, 15m or 0, got '${value}'`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
