/**
 * Secrets at rest: passwords, TOTP seeds and browser session state, each encrypted with
 * AES-256-GCM under the key from `LAKEBOOK_SECRET_KEY` (32 bytes, base64 or hex).
 *
 * One file per secret, `<dir>/<name>.secret.json`, written atomically (temp file + rename) with
 * mode 0600. The store lives beside the lake (`<lakeDir>/../secrets` by default), never inside
 * it, so neither the lake endpoint nor a lake copy can ever hand it out.
 *
 * Each file carries a key id (an HMAC of a fixed label under the key) so that reading with a
 * different key says exactly that, instead of a generic authentication failure; the secret's
 * name is bound as additional authenticated data, so a file copied to another name does not
 * decrypt. Values never reach a log or an error message.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { ConfigError, SourceError } from "../errors.ts";

const ALGORITHM = "aes-256-gcm";
const SECRET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

interface SecretFile {
  version: 1;
  algorithm: typeof ALGORITHM;
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

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

/**
 * Parses a 32-byte key given as 64 hex digits or base64. Throws ConfigError (never echoing the
 * value) when it is missing or malformed.
 */
export function parseSecretKey(value: string | undefined): Buffer {
  const help =
    "set LAKEBOOK_SECRET_KEY to 32 random bytes in base64 or hex, e.g. the output of " +
    "`node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\"`";
  if (value === undefined || value.trim() === "") {
    throw new ConfigError(`LAKEBOOK_SECRET_KEY is not set, so secrets cannot be stored or read: ${help}`);
  }
  const text = value.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, "hex");
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) key = Buffer.from(text, "base64");
  if (key?.length !== 32) {
    throw new ConfigError(
      `LAKEBOOK_SECRET_KEY is malformed (expected 32 bytes as 64 hex digits or 44 base64 characters, ` +
        `got ${text.length} characters): ${help}`,
    );
  }
  return key;
}

function keyId(key: Buffer): string {
  return createHmac("sha256", key).update("lakebook secret key id").digest("hex").slice(0, 16);
}

function checkName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw new SourceError(
      `invalid secret name '${name}': use letters, digits, _ . and - (not starting with .)`,
    );
  }
  return name;
}

/** Encrypts one value; the name is authenticated with it. */
export function encryptSecret(key: Buffer, name: string, value: string): SecretFile {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(name, "utf8"));
  const data = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return {
    version: 1,
    algorithm: ALGORITHM,
    keyId: keyId(key),
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

/** Decrypts one value, with a clear error for a different key or a modified file. */
export function decryptSecret(key: Buffer, name: string, file: SecretFile, where: string): string {
  if (file.version !== 1 || file.algorithm !== ALGORITHM) {
    throw new SourceError(`cannot decrypt secret '${name}' (${where}): unknown format; store it again`);
  }
  const expected = Buffer.from(keyId(key), "utf8");
  const actual = Buffer.from(String(file.keyId), "utf8");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new ConfigError(
      `cannot decrypt secret '${name}' (${where}): LAKEBOOK_SECRET_KEY differs from the key used to store it; ` +
        `use the original key, or store the secret again under the current key`,
    );
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(file.iv, "base64"));
    decipher.setAAD(Buffer.from(name, "utf8"));
    decipher.setAuthTag(Buffer.from(file.tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(file.data, "base64")), decipher.final()]).toString(
      "utf8",
    );
  } catch (error) {
    throw new SourceError(
      `cannot decrypt secret '${name}' (${where}): the file was modified or belongs to another name; store it again`,
      { cause: error },
    );
  }
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
      return decryptSecret(key, name, file, path);
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
      await writeFile(temp, JSON.stringify(encryptSecret(key, name, value)) + "\n", { mode: 0o600 });
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
