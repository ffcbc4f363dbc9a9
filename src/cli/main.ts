/**
 * The `lakebook` command line. Thin by design: each command lazy-imports the module that does the
 * work, and every error is mapped to a message and an exit code here (1: the operation failed,
 * 2: bad usage, 70: a bug), so bad input never prints a stack trace.
 */
import { parseArgs } from "node:util";
import { CliError, isLakebookError } from "../errors.ts";

const USAGE = `Usage: lakebook <command> [options]

Commands:
  new <dir>            scaffold a working project in <dir> (then: npm install && npm run demo)
  demo                 ingest the bundled market data, build the site and serve it
  build                run the loaders and build the notebooks into a new published version
  preview              live-reloading preview of the notebooks (with the lake at /lake)
  serve                serve the published site and the curated lake
  run [selection]      run the project's sources and models in dependency order, e.g.
                       'run', 'run +curated.prices', 'run raw.quotes+' ('run --help')
  ls                   the project's sources, models, datasets and pages, with their upstream,
                       downstream, versions, last runs and quality (also 'dag'; --json)
  pipeline             run the whole project (same as 'run')
  validate <zone>/<dataset>
                       run the dataset's quality suite (quality/<zone>.<dataset>.yaml) on its
                       current version (--version <n> for another), store and print the result;
                       exits 1 when a 'fail' expectation fails (--json for machines)
  ingest <file> --source <s> --dataset <d> (--columns <list> | --spec <file.json>)
                       land a CSV file and parse it into a new raw version (rejects keep line numbers)
  promote [selection]  run the selected models (all by default) without running sources
  lake ls|show|history|gc|archive|restore
                       the lake's catalog, versions and lineage; gc of orphaned files (dry-run
                       unless --apply); archive old versions and restore them ('lake --help')
  user add|remove|grant|list
                       accounts and roles (viewer, analyst, admin), groups, TOTP; the first user
                       turns access control on ('user --help')
  secret set|remove <name>
                       store a source's password, TOTP seed or token, encrypted (LAKEBOOK_SECRET_KEY)
  worker [--concurrency N] [--metrics-port P]
                       take runs from the PostgreSQL job queue (DATABASE_URL) and execute them
  publish list|rollback|access
                       published builds, rollback to the previous one, access rules by path

Options:
  --port <n>           port for serve, preview and demo (default 3000, env PORT)
  --host <name>        interface to listen on (default 127.0.0.1, env HOST)
  --root <dir>         build, preview, serve: the project folder (default: the current one, env
                       LAKEBOOK_ROOT). Any Observable Framework project works: build reads its
                       observablehq.config.js and builds offline into its output (default dist/)
  --strict             build: fail when a report's data failed its quality checks
  --refresh [loader]   build: rerun every data loader, or the named one (repeatable); otherwise a
                       cached loader output is reused while its code, the dataset versions it
                       read and its maxAge say it is current
  --json               build and others: machine-readable output (build: one JSON line per step)
  -h, --help           show this help
`;

interface CommandOptions {
  port?: number;
  host?: string;
  /** Positional arguments after the command name (only for commands in TAKES_ARGUMENTS). */
  args?: string[];
  version?: string;
  json?: boolean;
  strict?: boolean;
  /** `true`: rerun every loader; names: rerun those. */
  refresh?: true | string[];
  /** Project root for build, preview and serve (resolved in projectRoot.ts). */
  root?: string;
}

const TAKES_ARGUMENTS = new Set(["validate"]);
/** Commands that parse every argument after their name themselves (their own options, --help). */
const OWN_OPTIONS = new Set([
  "ingest",
  "promote",
  "lake",
  "user",
  "publish",
  "secret",
  "run",
  "ls",
  "dag",
  "new",
  "worker",
]);

type Command = (options: CommandOptions) => Promise<void>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./commands/demo.ts")).demo,
  build: async () => (await import("./commands/build.ts")).build,
  preview: async () => (await import("./commands/preview.ts")).preview,
  serve: async () => (await import("./commands/serve.ts")).serve,
  pipeline: async () => (await import("./commands/pipeline.ts")).pipeline,
  run: async () => (await import("./commands/run.ts")).run,
  ls: async () => (await import("./commands/ls.ts")).ls,
  new: async () => (await import("./commands/new.ts")).newProject,
  dag: async () => (await import("./commands/ls.ts")).ls,
  validate: async () => (await import("./commands/validate.ts")).validate,
  ingest: async () => (await import("./commands/ingest.ts")).ingest,
  promote: async () => (await import("./commands/promote.ts")).promote,
  lake: async () => (await import("./commands/lake.ts")).lake,
  user: async () => (await import("./commands/user.ts")).user,
  publish: async () => (await import("./commands/publish.ts")).publish,
  secret: async () => (await import("./commands/secret.ts")).secret,
  worker: async () => (await import("./commands/worker.ts")).worker,
};

export async function main(argv: string[]): Promise<number> {
  try {
    const [first, ...after] = argv;
    const own = first !== undefined && OWN_OPTIONS.has(first) ? COMMANDS[first] : undefined;
    if (own) {
      const command = await own();
      await command({ args: after });
      return 0;
    }
    const { values, positionals } = parseArgs({
      args: withRefreshValues(argv),
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        version: { type: "string" },
        json: { type: "boolean" },
        strict: { type: "boolean" },
        refresh: { type: "string", multiple: true },
        root: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    const [name, ...rest] = positionals;
    if (values.help || name === undefined || name === "help") {
      console.log(USAGE);
      return name === undefined && !values.help ? 2 : 0;
    }
    const load = COMMANDS[name];
    if (!load) throw new CliError(`unknown command '${name}': run 'lakebook --help' for the list`);
    if (rest.length > 0 && !TAKES_ARGUMENTS.has(name))
      throw new CliError(`unexpected argument '${rest[0]}' for '${name}'`);
    const command = await load();
    await command({
      port: parsePort(values.port),
      host: values.host,
      args: rest,
      version: values.version,
      json: values.json,
      strict: values.strict,
      ...(values.refresh && { refresh: values.refresh.includes(ALL_LOADERS) ? true : values.refresh }),
      root: values.root,
    });
    return 0;
  } catch (error) {
    return report(error);
  }
}

const ALL_LOADERS = "*";

/** A bare `--refresh` (last, or before another option) means every loader. */
function withRefreshValues(argv: readonly string[]): string[] {
  return argv.map((arg, index) => {
    const next = argv[index + 1];
    return arg === "--refresh" && (next === undefined || next.startsWith("-"))
      ? `--refresh=${ALL_LOADERS}`
      : arg;
  });
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--port must be a whole number from 0 to 65535, got '${value}'`);
  }
  return port;
}

function report(error: unknown): number {
  if (error instanceof CliError) {
    console.error(`lakebook: ${error.message}`);
    return error.exitCode;
  }
  if (isLakebookError(error)) {
    console.error(`lakebook: ${error.message}`);
    return 1;
  }
  if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`lakebook: ${error.message}; run 'lakebook --help'`);
    return 2;
  }
  const system = systemError(error);
  if (system) {
    console.error(`lakebook: ${system}`);
    return 1;
  }
  console.error("lakebook: unexpected error (please report it):", error);
  return 70;
}

/**
 * The filesystem refusing an operation (a read-only or foreign-owned lake folder, a full disk) is
 * the environment, not a bug: said in words, with the path and what to do.
 */
function systemError(error: unknown): string | undefined {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  const where = path ? ` ${path}` : "";
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `permission denied on${where} (${code}): make the lake folder (LAKEBOOK_LAKE_DIR) writable by this user, or run as its owner`;
    case "EROFS":
      return `${where.trim() || "the lake"} is on a read-only filesystem (EROFS): point LAKEBOOK_LAKE_DIR at a writable folder`;
    case "ENOSPC":
      return `no space left on the device holding${where} (ENOSPC): free some space (lakebook lake gc --apply) and run again`;
    default:
      return undefined;
  }
}
