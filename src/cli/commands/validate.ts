/**
 * `lakebook validate <zone>/<dataset> [--version n] [--json]`: runs the dataset's suite
 * (quality/<zone>.<dataset>.yaml) on a committed version, stores the result beside the version
 * and prints it; a failing `fail` expectation makes the command exit 1.
 */
import { join } from "node:path";
import { configFromEnv } from "../../config.ts";
import { CliError, QualityError } from "../../errors.ts";
import { createLake, type VersionedZone } from "../../lake/index.ts";
import {
  type StoredValidation,
  SUITES_DIR,
  maybeSuite,
  validationKey,
  validateVersion,
} from "../../quality/index.ts";

const TARGET = /^(raw|staging|curated)\/([A-Za-z0-9_-]{1,64})$/;

export async function validate(options: {
  args?: string[];
  version?: string;
  json?: boolean;
}): Promise<void> {
  const [target, ...extra] = options.args ?? [];
  const match = TARGET.exec(target ?? "");
  if (!match || extra.length > 0) {
    throw new CliError(
      `usage: lakebook validate <zone>/<dataset> [--version n] [--json], e.g. 'lakebook validate curated/prices'` +
        (target === undefined ? "" : `; got '${[target, ...extra].join(" ")}'`),
    );
  }
  const zone = match[1] as VersionedZone;
  const dataset = match[2]!;
  const version = options.version === undefined ? undefined : Number(options.version);
  if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
    throw new CliError(`--version must be a version number (1, 2, ...), got '${options.version}'`);
  }
  const config = configFromEnv();
  const suitesDir = join(config.root, SUITES_DIR);
  const suite = await maybeSuite(suitesDir, zone, dataset);
  if (!suite) {
    throw new CliError(
      `no quality suite for ${zone}/${dataset}: add ${join(suitesDir, `${zone}.${dataset}.yaml`)}`,
      {
        exitCode: 1,
      },
    );
  }
  const result = await validateVersion(createLake(config), suite, {
    ...(version !== undefined && { version }),
  });
  console.log(options.json ? JSON.stringify(result, null, 2) : formatValidation(result));
  if (result.status === "fail") {
    const failed = result.results
      .filter((r) => !r.success && r.severity === "fail")
      .map((r) => r.expectation);
    throw new QualityError(`${zone}/${dataset} v${result.version} failed ${failed.join(", ")}`);
  }
}

/** The result as a table a person can read in a terminal. */
export function formatValidation(result: StoredValidation): string {
  const rows = result.results.map((r) => [
    r.success ? "ok" : r.severity === "fail" ? "FAIL" : "warn",
    r.expectation,
    r.severity,
    truncate(formatObserved(r.observedValue), 40),
    r.unexpectedCount === null ? "" : `${r.unexpectedCount} (${r.unexpectedPercent}%)`,
  ]);
  const header = ["", "expectation", "severity", "observed", "unexpected"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const samples = result.results
    .filter((r) => !r.success && r.sampleRows.length > 0)
    .map(
      (r) =>
        `\n${r.expectation}: ${r.message ?? "failed"}\n` +
        r.sampleRows
          .slice(0, 5)
          .map((row) => `  ${JSON.stringify(row)}`)
          .join("\n") +
        (r.sampleRows.length > 5
          ? `\n  ... ${r.sampleRows.length - 5} more sample rows in the stored result`
          : ""),
    );
  const messages = result.results
    .filter((r) => !r.success && r.sampleRows.length === 0 && r.message)
    .map((r) => `\n${r.expectation}: ${r.message}`);
  return [
    `${result.zone}/${result.dataset} version ${result.version} · ${result.rowCount} rows · suite ${result.suite} · ${result.runTimeMs} ms`,
    "",
    line(header),
    ...rows.map(line),
    ...samples,
    ...messages,
    "",
    `${result.status.toUpperCase()}: ${result.statistics.successful} of ${result.statistics.evaluated} expectations passed; ` +
      `stored as ${validationKey(result.zone, result.dataset, result.runId)}`,
  ].join("\n");
}

function formatObserved(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
