/**
 * `lakebook publish list|rollback|access`: the published builds, instant rollback to the
 * previous kept build, and access rules (which groups may read a path of the site or the lake).
 */
import { parseArgs } from "node:util";
import { configFromEnv, type Config } from "../../config.ts";
import { CliError, isLakebookError } from "../../errors.ts";
import { listBuilds, maybeCurrentBuild } from "../../site/index.ts";
import { isGroupName, openStore, type Store } from "../../store/index.ts";
import { rollback } from "../../site/index.ts";

const USAGE = `Usage: lakebook publish <list|rollback|access> ...

  publish list         kept builds (newest first), the live one marked, with recorded outcomes
  publish rollback     make the previous kept build live again (atomic switch)
  publish access       list the access rules
  publish access <path> <group>[,<group>...]
                       only admins and members of these groups may read pages, attachments and
                       lake files under <path> (e.g. /finance/ or /lake/curated/salaries/)
  publish access <path> --remove
                       drop the rule for <path>
`;

export async function publish(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseArgs({
    args: options.args ?? [],
    allowPositionals: true,
    options: { remove: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const [action, path, groups, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(USAGE);
    if (!values.help) throw new CliError("name an action: list, rollback or access");
    return;
  }
  if (extra.length > 0)
    throw new CliError(`unexpected argument '${extra[0]}': run 'lakebook publish --help'`);
  const config = configFromEnv();
  if (action === "rollback") {
    const store = await maybeStore(config);
    try {
      const { from, to } = await rollback(config, store, "cli");
      console.log(`rolled back: ${to} is live (was ${from})`);
    } finally {
      await store?.close();
    }
    return;
  }
  if (action === "list") {
    const store = await maybeStore(config);
    try {
      const current = await maybeCurrentBuild(config.siteDir);
      const records = new Map((await store?.listBuilds({ limit: 1000 }))?.map((b) => [b.id, b]) ?? []);
      for (const record of records.values()) {
        if (record.status === "failed") console.log(`  ${record.id}  failed: ${record.error ?? ""}`);
      }
      for (const id of (await listBuilds(config.siteDir)).reverse()) {
        const record = records.get(id);
        const versions = Object.entries(record?.dataVersions ?? {})
          .map(([d, v]) => `${d} v${v}`)
          .join(", ");
        console.log(
          `${id === current ? "*" : " "} ${id}  ${record?.status ?? "kept"}${versions ? `  data: ${versions}` : ""}`,
        );
      }
    } finally {
      await store?.close();
    }
    return;
  }
  if (action === "access") {
    const store = await openStore(config);
    try {
      if (path === undefined) {
        for (const rule of await store.listAccessRules())
          console.log(`${rule.path}\t${rule.groups.join(",")}`);
        return;
      }
      if (!/^\/[^\s?#]*$/.test(path) || path.includes("..")) {
        throw new CliError(
          `invalid path '${path}': give a URL path such as /finance/ or /lake/curated/salaries/`,
        );
      }
      if (values.remove) {
        if (!(await store.removeAccessRule(path))) throw new CliError(`no rule for ${path}`, { exitCode: 1 });
        await store.audit({ action: "access.remove", actor: "cli", target: path });
        console.log(`removed the rule for ${path}`);
        return;
      }
      const list = (groups ?? "")
        .split(",")
        .map((g) => g.trim())
        .filter(Boolean);
      if (list.length === 0 || list.some((g) => !isGroupName(g))) {
        throw new CliError("name one or more groups (letters, digits, _ and -), comma-separated");
      }
      await store.setAccessRule({ path, groups: list });
      await store.audit({ action: "access.set", actor: "cli", target: path, detail: { groups: list } });
      console.log(`${path}: readable by admins and ${list.join(", ")}`);
    } finally {
      await store.close();
    }
    return;
  }
  throw new CliError(`unknown action '${action}': use list, rollback or access`);
}

/** The store, or undefined (with a note) when the embedded one is held by a running server. */
async function maybeStore(config: Config): Promise<Store | undefined> {
  try {
    return await openStore(config);
  } catch (error) {
    if (isLakebookError(error) && error.code === "STORE_LOCKED") {
      console.error(`note: ${error.message}; continuing without build records`);
      return undefined;
    }
    throw error;
  }
}
