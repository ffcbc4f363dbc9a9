/**
 * Secrets at rest (TOTP seeds) are encrypted with the configured secret key (LAKEBOOK_SECRET_KEY,
 * 32 bytes in base64 or hex) using AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigError } from "../../src/errors.ts";

/** One key format and one set of messages for every secret Lakebook keeps (see src/sources/secrets.ts). */
export { parseSecretKey } from "../../src/sources/index.ts";

export function seal(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), body]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

export function open(sealed: string, key: Buffer): string {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== "v1" || !iv || !tag || body === undefined)
    throw new ConfigError("a stored secret is not in the v1 format");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
}
