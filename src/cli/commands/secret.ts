/**
 * `lakebook secret set|remove <name>`, `lakebook secret list`: passwords, TOTP seeds and tokens that sources use, stored
 * encrypted (AES-256-GCM, key LAKEBOOK_SECRET_KEY) beside the lake. Values are read from the
 * terminal without echo or from stdin, and are never printed.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { secretStoreFromConfig } from "../../sources/index.ts";
import { readHiddenInput } from "../hiddenInput.ts";

const USAGE = `Usage: lakebook secret <set|remove> <name> | lakebook secret list

  secret set <name>      store a secret; the value is read from the terminal (or stdin)
  secret remove <name>   delete a stored secret
  secret list            the stored secrets' names and when each was last set (never values)

Needs LAKEBOOK_SECRET_KEY (32 bytes, e.g. openssl rand -base64 32), from the environment or .env.
`;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export async function secret(options: { args?: string[] }): Promise<void> {
  const [action, name, ...rest] = options.args ?? [];
  if (action === undefined || action === "--help" || action === "-h") {
    console.log(USAGE);
    if (action === undefined) throw new CliError("secret needs an action: set, remove or list");
    return;
  }
  if (action === "list") {
    if (name !== undefined) throw new CliError(`unexpected argument '${name}': secret list takes none`);
    await listSecrets(secretStoreFromConfig(configFromEnv()).dir);
    return;
  }
  if (action !== "set" && action !== "remove") throw new CliError(`unknown action '${action}'\n${USAGE}`);
  if (name === undefined || !NAME.test(name)) {
    throw new CliError(`invalid secret name '${name ?? ""}': use 1 to 64 letters, digits, _ . and -`);
  }
  if (rest.length > 0) {
    throw new CliError(`unexpected argument '${rest[0]}': secret values are read from the terminal or stdin`);
  }
  const store = secretStoreFromConfig(configFromEnv());
  if (action === "remove") {
    await store.delete(name);
    console.log(`removed secret '${name}'`);
    return;
  }
  const value = await readHiddenInput(`value for ${name}: `);
  if (value === "") throw new CliError("empty secret: nothing stored");
  await store.set(name, value);
  console.log(`stored secret '${name}' (encrypted in ${store.dir})`);
}

const SECRET_FILE = /^([A-Za-z0-9_.-]{1,64})\.secret\.json$/;

/** Names and modification times of the stored secrets: read from the folder, nothing decrypted. */
async function listSecrets(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    names = [];
  }
  const secrets = names.flatMap((file) => {
    const match = SECRET_FILE.exec(file);
    return match ? [{ name: match[1]!, file }] : [];
  });
  if (secrets.length === 0) {
    console.log(`no secrets stored in ${dir}: add one with 'lakebook secret set <name>'`);
    return;
  }
  for (const { name, file } of secrets.sort((a, b) => a.name.localeCompare(b.name))) {
    const { mtime } = await stat(join(dir, file));
    console.log(`${name}\t${mtime.toISOString().slice(0, 19).replace("T", " ")} UTC`);
  }
}
