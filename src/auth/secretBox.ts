/**
 * One format for every secret Lakebook keeps at rest (source passwords and tokens, browser
 * sessions, users' TOTP seeds): AES-256-GCM under the key from LAKEBOOK_SECRET_KEY, sealed as
 * `lb2.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id (an HMAC of a fixed label
 * under the key) makes a different key fail with that message rather than a generic
 * authentication error; the context (a secret's name, `totp:<user>`) is authenticated with the
 * value, so a sealed value copied elsewhere does not open.
 *
 * The two formats this replaces stay readable: the secret files' JSON `{version: 1, algorithm,
 * keyId, iv, tag, data}` (base64, the name as context) and the TOTP seeds' `v1.<iv>.<tag>.<data>`
 * (base64url, no key id, no context). New values are always sealed in the current format.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../errors.ts";

const ALGORITHM = "aes-256-gcm";
const PREFIX = "lb2";

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

export function keyId(key: Buffer): string {
  return createHmac("sha256", key).update("lakebook secret key id").digest("hex").slice(0, 16);
}

/** Why a sealed value could not be opened; `kind` lets callers word it for their secret. */
export class SecretOpenError extends ConfigError {
  constructor(
    readonly kind: "wrong-key" | "modified" | "format",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function seal(plaintext: string, key: Buffer, context = ""): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [
    PREFIX,
    keyId(key),
    ...[iv, cipher.getAuthTag(), body].map((part) => part.toString("base64url")),
  ].join(".");
}

function decrypt(
  key: Buffer,
  parts: { iv: Buffer; tag: Buffer; data: Buffer; context: string | undefined },
  where: string,
): string {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, parts.iv);
    if (parts.context !== undefined) decipher.setAAD(Buffer.from(parts.context, "utf8"));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.data), decipher.final()]).toString("utf8");
  } catch (error) {
    throw new SecretOpenError(
      "modified",
      `cannot decrypt ${where}: it was modified or belongs to another name (or was stored under another key); store it again`,
      { cause: error },
    );
  }
}

function checkKeyId(key: Buffer, stored: string, where: string): void {
  const expected = Buffer.from(keyId(key), "utf8");
  const actual = Buffer.from(stored, "utf8");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new SecretOpenError(
      "wrong-key",
      `cannot decrypt ${where}: LAKEBOOK_SECRET_KEY differs from the key used to store it; ` +
        `use the original key, or store the secret again under the current key`,
    );
  }
}

/** Opens a value sealed by `seal` (or a legacy `v1.` TOTP seed, which has no context). */
export function open(sealed: string, key: Buffer, context = "", where = "a stored secret"): string {
  const parts = sealed.split(".");
  if (parts[0] === PREFIX && parts.length === 5) {
    checkKeyId(key, parts[1]!, where);
    const [iv, tag, data] = parts.slice(2).map((p) => Buffer.from(p, "base64url")) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    return decrypt(key, { iv, tag, data, context }, where);
  }
  if (parts[0] === "v1" && parts.length === 4) {
    const [iv, tag, data] = parts.slice(1).map((p) => Buffer.from(p, "base64url")) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    return decrypt(key, { iv, tag, data, context: undefined }, where);
  }
  throw new SecretOpenError("format", `cannot decrypt ${where}: unknown format; store it again`);
}

/** The JSON of a secret file written before the formats were merged. */
export interface LegacySecretFile {
  version: 1;
  algorithm: string;
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

/** Opens a legacy secret file (its name was the context). */
export function openLegacySecretFile(
  file: LegacySecretFile,
  key: Buffer,
  name: string,
  where: string,
): string {
  if (file.version !== 1 || file.algorithm !== ALGORITHM)
    throw new SecretOpenError("format", `cannot decrypt ${where}: unknown format; store it again`);
  checkKeyId(key, String(file.keyId), where);
  const [iv, tag, data] = [file.iv, file.tag, file.data].map((p) => Buffer.from(p, "base64")) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  return decrypt(key, { iv, tag, data, context: name }, where);
}
