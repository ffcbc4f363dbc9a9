/**
 * `lakebook lake <ls|show|history|gc|archive|restore>`: look into the lake and maintain it.
 * Every subcommand prints a human summary, or JSON with `--json`; the destructive ones (gc,
 * archive) only report what they would do unless given `--apply`.
 */
import { CliError, DataError } from "../../errors.ts";
import {
  DEFAULT_GC_GRACE_MS,
  archiveLake,
  archiveVersions,
  buildCatalog,
  collectGarbage,
  describeDataset,
  readAnyManifest,
  restoreVersion,
  traceLineage,
  verifyVersion,
} from "../../lake/index.ts";
import {
  type Output,
  createOutput,
  formatBytes,
  openLake,
  parseCommandArgs,
  parseDatasetRef,
  parseDuration,
  parseVersion,
} from "./lakeOutput.ts";

const USAGE = `Usage: lakebook lake <subcommand> [options]

Subcommands:
  ls                              datasets of every zone: current version, rows, bytes
  show <zone>/<dataset>[@v]       one version: schema, files, rejects, lineage (--verify checks sha256)
  history <zone>/<dataset>        every version, live and archived
  gc [--apply] [--grace 1h]       orphaned files of crashed or losing writers (dry-run unless --apply)
  archive [<zone>/<dataset>] --older-than 30d [--keep 1] [--apply]
                                  move old versions to archive/ (ZSTD); never the current one
  restore <zone>/<dataset> <v>    bring an archived version back

Options:
  --json                          print the result as JSON
`;

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  ls,
  show,
  history,
  gc,
  archive,
  restore,
};

export async function lake(options: { args?: string[] }): Promise<void> {
  const [sub, ...rest] = options.args ?? [];
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(USAGE);
    if (sub === undefined)
      throw new CliError("lake needs a subcommand: ls, show, history, gc, archive or restore");
    return;
  }
  const run = SUBCOMMANDS[sub];
  if (!run)
    throw new CliError(`unknown subcommand 'lake ${sub}': use ls, show, history, gc, archive or restore`);
  await run(rest);
}

type OptionSpec = Record<string, { type: "string" | "boolean" }>;

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  out: Output;
}

/** Parses a subcommand's arguments (plus --json and --help); undefined after printing help. */
function parse(sub: string, args: string[], options: OptionSpec): Parsed | undefined {
  const parsed = parseCommandArgs(`lake ${sub}`, args, {
    ...options,
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  const values = parsed.values as Parsed["values"];
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  return { values, positionals: parsed.positionals, out: createOutput(values.json === true) };
}

function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function noMore(positionals: string[], count: number, sub: string): void {
  if (positionals.length > count)
    throw new CliError(`unexpected argument '${positionals[count]}' for 'lake ${sub}'`);
}

async function ls(args: string[]): Promise<void> {
  const parsed = parse("ls", args, {});
  if (!parsed) return;
  noMore(parsed.positionals, 0, "ls");
  const { out } = parsed;
  const catalog = await buildCatalog(openLake().storage);
  const rows = catalog.map((entry) => ({
    zone: entry.zone,
    dataset: entry.dataset,
    version: entry.head,
    versions: entry.versions.length,
    archived: entry.versions.filter((v) => v.status === "archived").length,
    rowCount: entry.rowCount,
    bytes: entry.bytes,
    createdAt: entry.versions.find((v) => v.version === entry.head)?.createdAt ?? null,
  }));
  out.result({ datasets: rows }, () => {
    if (rows.length === 0) out.print("the lake is empty: run 'lakebook ingest' or 'lakebook pipeline'");
    for (const row of rows) {
      out.print(
        `${`${row.zone}/${row.dataset}`.padEnd(28)} v${String(row.version ?? "-").padEnd(5)} ${String(row.rowCount).padStart(10)} rows ${formatBytes(row.bytes).padStart(10)}` +
          (row.archived > 0 ? `  (${row.archived} archived)` : ""),
      );
    }
  });
}

async function show(args: string[]): Promise<void> {
  const parsed = parse("show", args, { verify: { type: "boolean" } });
  if (!parsed) return;
  const { out, positionals, values } = parsed;
  noMore(positionals, 1, "show");
  const ref = parseDatasetRef(positionals[0], "lake show");
  const { storage } = openLake();
  const entry = await describeDataset(storage, ref.zone, ref.dataset);
  if (!entry)
    throw new DataError(
      `${ref.zone}/${ref.dataset} has no versions: run 'lakebook lake ls' for the datasets`,
    );
  const version = ref.version ?? entry.head ?? entry.versions.at(-1)!.version;
  const manifest = await readAnyManifest(storage, ref.zone, ref.dataset, version);
  const lineage = await traceLineage(storage, manifest);
  const problems = values.verify ? await verifyVersion(storage, manifest) : undefined;
  out.result(
    { ...manifest, lineage: { ...manifest.lineage, ...lineage }, ...(problems && { problems }) },
    () => {
      out.print(
        `${ref.zone}/${ref.dataset} v${manifest.version} (${manifest.status}${manifest.version === entry.head ? ", current" : ""})`,
      );
      out.print(`  committed ${manifest.createdAt}, parent ${manifest.parent ?? "none"}`);
      out.print(
        `  ${manifest.rowCount} rows, ${formatBytes(manifest.bytes)} in ${manifest.files.length} file(s)`,
      );
      if (manifest.rejects.count > 0)
        out.print(`  ${manifest.rejects.count} rejected rows in ${manifest.rejects.key}`);
      if (manifest.quality) out.print(`  quality: ${manifest.quality.status} (${manifest.quality.key})`);
      out.print("  schema:");
      for (const column of manifest.schema) out.print(`    ${column.name} ${column.type}`);
      out.print("  lineage:");
      for (const input of lineage.upstream)
        out.print(`    from ${input.zone}/${input.dataset} v${input.version}`);
      for (const landing of lineage.landing) {
        out.print(
          `    landing ${landing.key} (${landing.origin ?? "unknown origin"}, ${landing.fetchedAt ?? "?"})`,
        );
      }
      for (const run of lineage.sourceRuns) out.print(`    source run ${run}`);
      if (problems) {
        out.print(
          problems.length === 0 ? "  verified: every file matches its size and sha256" : "  DAMAGED:",
        );
        for (const p of problems) out.print(`    ${p.key}: ${p.problem}`);
      }
    },
  );
  if (problems && problems.length > 0) {
    throw new DataError(
      `${ref.zone}/${ref.dataset} v${version} is damaged (${problems.length} file problem(s)): restore it or rerun its step`,
    );
  }
}

async function history(args: string[]): Promise<void> {
  const parsed = parse("history", args, {});
  if (!parsed) return;
  const { out, positionals } = parsed;
  noMore(positionals, 1, "history");
  const ref = parseDatasetRef(positionals[0], "lake history");
  const entry = await describeDataset(openLake().storage, ref.zone, ref.dataset);
  if (!entry)
    throw new DataError(
      `${ref.zone}/${ref.dataset} has no versions: run 'lakebook lake ls' for the datasets`,
    );
  out.result({ zone: ref.zone, dataset: ref.dataset, head: entry.head, versions: entry.versions }, () => {
    for (const v of entry.versions) {
      out.print(
        `v${String(v.version).padEnd(5)} ${v.createdAt}  ${String(v.rowCount).padStart(10)} rows ${formatBytes(v.bytes).padStart(10)}  ${v.status}${v.version === entry.head ? " (current)" : ""}`,
      );
    }
  });
}

async function gc(args: string[]): Promise<void> {
  const parsed = parse("gc", args, { apply: { type: "boolean" }, grace: { type: "string" } });
  if (!parsed) return;
  const { out, positionals, values } = parsed;
  noMore(positionals, 0, "gc");
  const grace = stringOption(values.grace);
  const graceMs = grace === undefined ? DEFAULT_GC_GRACE_MS : parseDuration(grace, "--grace");
  const lake = openLake();
  out.progress(`scanning ${lake.storage.location}`);
  const result = await collectGarbage(lake, { apply: values.apply === true, graceMs });
  out.result(result, () => {
    for (const c of result.candidates) {
      out.print(
        `${result.applied ? "removed" : "would remove"} ${c.key} (${formatBytes(c.bytes)}): ${c.reason}`,
      );
    }
    out.print(
      result.candidates.length === 0
        ? "nothing to collect"
        : result.applied
          ? `removed ${result.candidates.length} item(s), ${formatBytes(result.bytes)}`
          : `${result.candidates.length} item(s), ${formatBytes(result.bytes)}: run 'lakebook lake gc --apply' to remove them`,
    );
  });
}

async function archive(args: string[]): Promise<void> {
  const parsed = parse("archive", args, {
    apply: { type: "boolean" },
    "older-than": { type: "string" },
    keep: { type: "string" },
  });
  if (!parsed) return;
  const { out, positionals, values } = parsed;
  noMore(positionals, 1, "archive");
  const olderThan = stringOption(values["older-than"]);
  if (olderThan === undefined) {
    throw new CliError("lake archive needs --older-than <duration>, e.g. --older-than 30d");
  }
  const keepLatest = values.keep === undefined ? 1 : Number(values.keep);
  if (!Number.isInteger(keepLatest) || keepLatest < 1) {
    throw new CliError(`--keep takes a whole number of versions (at least 1), got '${values.keep}'`);
  }
  const policy = { olderThanMs: parseDuration(olderThan, "--older-than"), keepLatest };
  const lake = openLake();
  const options = { policy, apply: values.apply === true };
  const result =
    positionals[0] === undefined
      ? await archiveLake(lake, options)
      : await (async () => {
          const ref = parseDatasetRef(positionals[0], "lake archive");
          return archiveVersions(lake, ref.zone, ref.dataset, options);
        })();
  out.result(result, () => {
    for (const v of result.versions) {
      out.print(
        `${result.applied ? "archived" : "would archive"} ${v.zone}/${v.dataset} v${v.version} (${v.createdAt})`,
      );
    }
    out.print(
      result.versions.length === 0
        ? "no version is old enough to archive"
        : result.applied
          ? `archived ${result.versions.length} version(s)`
          : `${result.versions.length} version(s): run again with --apply to archive them`,
    );
  });
}

async function restore(args: string[]): Promise<void> {
  const parsed = parse("restore", args, {});
  if (!parsed) return;
  const { out, positionals } = parsed;
  noMore(positionals, 2, "restore");
  const ref = parseDatasetRef(positionals[0], "lake restore");
  const version = parseVersion(
    positionals[1] ?? (ref.version === undefined ? undefined : String(ref.version)),
    "lake restore",
  );
  const lake = openLake();
  out.progress(`restoring ${ref.zone}/${ref.dataset} v${version}`);
  const manifest = await restoreVersion(lake, ref.zone, ref.dataset, version);
  out.result(
    {
      zone: manifest.zone,
      dataset: manifest.dataset,
      version: manifest.version,
      rowCount: manifest.rowCount,
    },
    () =>
      out.print(
        `restored ${manifest.zone}/${manifest.dataset} v${manifest.version}: ${manifest.rowCount} rows`,
      ),
  );
}
