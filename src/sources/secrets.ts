/**
 * Secrets at rest: passwords, TOTP seeds and browser session state, each encrypted with
 * AES-256-GCM under the key from `LAKEBOOK_SECRET_KEY` (32 bytes, base64 or hex).
 *
 * One file per secret, `<dir>/<name>.secret.json`, written atomically (temp file + rename) with
 * mode 0600. The store lives beside the lake (`<lakeDir>/../secrets` by default), never inside
 * it, so neither the lake endpoint nor a lake copy can ever hand it out.
 *
 * Each file holds `{"sealed": ...}` in the one format of src/auth/secretBox.ts (which also reads
 * files written in the earlier JSON format): reading with a different key says exactly that, and
 * the secret's name is authenticated with the value, so a file copied to another name does not
 * decrypt. Values never reach a log or an error message.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { type LegacySecretFile, open, openLegacySecretFile, parseSecretKey, seal } from "../auth/index.ts";
import type { Config } from "../config.ts";
import { ConfigError, SourceError } from "../errors.ts";

export { parseSecretKey };

const SECRET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** A secret file: the value sealed with its name as context (src/auth/secretBox.ts). */
type SecretFile = { sealed: string } | LegacySecretFile;

/** Encrypted name -> value store. */
export interface SecretStore {
  /** The folder holding the encrypted files (for messages). */
  readonly dir: string;
  /** The secret's value, or undefined when it was never stored. */
  maybeGet(name: string): Promise<string | undefined>;
  /** The secret's value; a SourceError naming the secret when it is missing. */
  get(name: string): Promise<string>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

function checkName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw new SourceError(
      `invalid secret name '${name}': use letters, digits, _ . and - (not starting with .)`,
    );
  }
  return name;
}

export function createSecretStore(options: { dir: string; key: string | Buffer | undefined }): SecretStore {
  const dir = resolve(options.dir);
  const key = Buffer.isBuffer(options.key) ? options.key : parseSecretKey(options.key);
  if (key.length !== 32) throw new ConfigError("the secret key must be 32 bytes");
  const pathOf = (name: string) => join(dir, `${checkName(name)}.secret.json`);

  const store: SecretStore = {
    dir,
    async maybeGet(name) {
      const path = pathOf(name);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new SourceError(`cannot read secret '${name}' at ${path}`, { cause: error });
      }
      let file: SecretFile;
      try {
        file = JSON.parse(text) as SecretFile;
      } catch (error) {
        throw new SourceError(
          `cannot decrypt secret '${name}' (${path}): the file is not valid JSON; store it again`,
          {
            cause: error,
          },
        );
      }
      const where = `secret '${name}' (${path})`;
      return "sealed" in file
        ? open(file.sealed, key, name, where)
        : openLegacySecretFile(file, key, name, where);
    },
    async get(name) {
      const value = await store.maybeGet(name);
      if (value === undefined) {
        throw new SourceError(
          `secret '${name}' is not stored in ${dir}: store it first with the secret store's set('${name}', value)`,
        );
      }
      return value;
    },
    async set(name, value) {
      const path = pathOf(name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
      await writeFile(temp, JSON.stringify({ sealed: seal(value, key, name) } satisfies SecretFile) + "\n", {
        mode: 0o600,
      });
      await rename(temp, path);
    },
    async delete(name) {
      await rm(pathOf(name), { force: true });
    },
  };
  return store;
}

/** Where the configured store lives: `secrets/` beside the lake folder, never inside the lake. */
export function secretsDir(config: Pick<Config, "lakeDir">): string {
  return join(dirname(resolve(config.lakeDir)), "secrets");
}

/** The store for a configuration; ConfigError when LAKEBOOK_SECRET_KEY is missing or malformed. */
export function secretStoreFromConfig(config: Pick<Config, "lakeDir" | "secretKey">): SecretStore {
  return createSecretStore({ dir: secretsDir(config), key: config.secretKey });
}
