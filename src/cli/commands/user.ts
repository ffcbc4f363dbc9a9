/**
 * `lakebook user add|remove|grant|list`: accounts in the record store. Passwords are read from
 * the terminal without echo, or from stdin when piped (`printf '%s' "$PW" | lakebook user add ...`),
 * never from the command line where `ps` and shell history would show them.
 */
import { parseArgs } from "node:util";
import { configFromEnv } from "../../config.ts";
import { readHiddenInput } from "../hiddenInput.ts";
import { CliError } from "../../errors.ts";
import { isGroupName, openStore, ROLES, type Role, type Store } from "../../store/index.ts";
import {
  createTotpSeed,
  hashPassword,
  parseSecretKey,
  passwordProblem,
  seal,
  totpUri,
} from "../../auth/index.ts";

const USAGE = `Usage: lakebook user <add|remove|grant|list> ...

  user add <name> --role viewer|analyst|admin [--groups a,b] [--totp]
                       create an account; the password is read from the terminal (or stdin);
                       --totp also prints an otpauth:// URI for an authenticator app
                       (needs LAKEBOOK_SECRET_KEY, 32 bytes: openssl rand -base64 32)
  user remove <name>   delete an account and its sessions
  user grant <name> [--role r] [--groups a,b] [--revoke a,b] [--unlock] [--password] [--totp|--no-totp]
                       change role, add or remove groups, clear a lockout, reset the password
  user list            accounts with role, groups, second factor and lock state

The first user turns access control on (unless LAKEBOOK_PUBLIC=true). With the embedded store,
stop 'lakebook serve' first, or set DATABASE_URL so the server and the CLI share PostgreSQL.
`;

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export async function user(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseArgs({
    args: options.args ?? [],
    allowPositionals: true,
    options: {
      role: { type: "string" },
      groups: { type: "string" },
      revoke: { type: "string" },
      totp: { type: "boolean" },
      "no-totp": { type: "boolean" },
      unlock: { type: "boolean" },
      password: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(USAGE);
    if (!values.help) throw new CliError("name an action: add, remove, grant or list");
    return;
  }
  if (extra.length > 0) throw new CliError(`unexpected argument '${extra[0]}': run 'lakebook user --help'`);
  if (action !== "list" && (name === undefined || !NAME.test(name))) {
    throw new CliError(`user ${action} needs a user name of 1 to 64 letters, digits, . _ @ and -`);
  }
  const role = values.role === undefined ? undefined : parseRole(values.role);
  const groups = parseGroups(values.groups);
  const config = configFromEnv();
  const store = await openStore(config);
  try {
    if (action === "list") return await list(store);
    const userName = name!;
    if (action === "add") {
      if (!role) throw new CliError("user add needs --role viewer, analyst or admin");
      const password = await readPassword(`password for ${userName}: `);
      const seed = values.totp ? createTotpSeed() : undefined;
      await store.addUser({
        name: userName,
        role,
        groups: groups ?? [],
        passwordHash: await hashPassword(password),
        totpSeed: seed ? seal(seed, parseSecretKey(config.secretKey)) : null,
      });
      await store.audit({
        action: "user.add",
        actor: "cli",
        target: userName,
        detail: { role, groups: groups ?? [] },
      });
      console.log(`added ${userName} (${role}${groups?.length ? `, groups ${groups.join(", ")}` : ""})`);
      if (seed) console.log(`TOTP: add this to an authenticator app: ${totpUri(seed, userName)}`);
      return;
    }
    const existing = await store.maybeUser(userName);
    if (!existing)
      throw new CliError(`no user '${userName}': 'lakebook user list' shows the accounts`, { exitCode: 1 });
    if (action === "remove") {
      const admins = (await store.listUsers()).filter((u) => u.role === "admin");
      const others = (await store.countUsers()) - 1;
      if (existing.role === "admin" && admins.length === 1 && others > 0) {
        throw new CliError(
          `${userName} is the last admin: make another user admin first ('lakebook user grant <name> --role admin')`,
          {
            exitCode: 1,
          },
        );
      }
      await store.removeUser(userName);
      await store.audit({ action: "user.remove", actor: "cli", target: userName });
      console.log(`removed ${userName}${others === 0 ? " (no users left: the site is open again)" : ""}`);
      return;
    }
    if (action === "grant") {
      const revoke = new Set(parseGroups(values.revoke) ?? []);
      const nextGroups = [...new Set([...existing.groups, ...(groups ?? [])])].filter((g) => !revoke.has(g));
      const seed = values.totp ? createTotpSeed() : undefined;
      await store.updateUser(userName, {
        ...(role && { role }),
        groups: nextGroups,
        ...(values.password && {
          passwordHash: await hashPassword(await readPassword(`new password for ${userName}: `)),
        }),
        ...(seed && { totpSeed: seal(seed, parseSecretKey(config.secretKey)) }),
        ...(values["no-totp"] && { totpSeed: null }),
      });
      if (values.unlock || values.password) await store.clearLoginFailures(userName);
      if (role && role !== existing.role) await store.deleteUserSessions(userName);
      await store.audit({
        action: "user.grant",
        actor: "cli",
        target: userName,
        detail: { role: role ?? existing.role, groups: nextGroups, unlock: Boolean(values.unlock) },
      });
      console.log(`${userName}: ${role ?? existing.role}, groups ${nextGroups.join(", ") || "(none)"}`);
      if (seed) console.log(`TOTP: add this to an authenticator app: ${totpUri(seed, userName)}`);
      return;
    }
    throw new CliError(`unknown action '${action}': use add, remove, grant or list`);
  } finally {
    await store.close();
  }
}

async function list(store: Store): Promise<void> {
  const now = new Date();
  for (const u of await store.listUsers()) {
    const locked = u.lockedUntil && u.lockedUntil > now ? ` locked until ${u.lockedUntil.toISOString()}` : "";
    console.log(`${u.name}\t${u.role}\t${u.groups.join(",") || "-"}\t${u.totpSeed ? "totp" : "-"}${locked}`);
  }
}

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value))
    throw new CliError(`--role must be one of ${ROLES.join(", ")}, got '${value}'`);
  return value as Role;
}

function parseGroups(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const groups = value
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
  for (const group of groups) {
    if (!isGroupName(group)) throw new CliError(`invalid group '${group}': use letters, digits, _ and -`);
  }
  return groups;
}

/** A password from the terminal (not echoed) or from stdin when it is piped. */
async function readPassword(prompt: string): Promise<string> {
  const password = await readHiddenInput(prompt);
  const problem = passwordProblem(password);
  if (problem) throw new CliError(`password not accepted: ${problem}`);
  return password;
}
