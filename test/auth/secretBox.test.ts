import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { open, seal } from "../../src/auth/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { createSecretStore } from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const KEY = randomBytes(32);

/** How TOTP seeds were sealed before the formats were merged (server/auth/secretBox.ts). */
function legacyTotpSeal(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(".");
}

/** How secret files were written before the formats were merged (src/sources/secrets.ts). */
function legacySecretFile(key: Buffer, name: string, value: string) {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(name, "utf8"));
  const data = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return {
    version: 1,
    algorithm: "aes-256-gcm",
    keyId: createHmac("sha256", key).update("lakebook secret key id").digest("hex").slice(0, 16),
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

describe("one format for secrets at rest", () => {
  it("seals with a key id and a context, and says which of key or context is wrong", () => {
    const sealed = seal("JBSWY3DPEHPK3PXP", KEY, "totp:ada");
    expect(sealed).toMatch(/^lb2\.[0-9a-f]{16}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain("JBSWY3DP");
    expect(open(sealed, KEY, "totp:ada")).toBe("JBSWY3DPEHPK3PXP");
    expect(() => open(sealed, randomBytes(32), "totp:ada")).toThrow(/LAKEBOOK_SECRET_KEY differs/);
    expect(() => open(sealed, KEY, "totp:bob")).toThrow(/modified or belongs to another name/);
    expect(() => open("garbage", KEY)).toThrow(ConfigError);
  });

  it("still opens TOTP seeds sealed in the former v1 format", () => {
    expect(open(legacyTotpSeal("seed-value", KEY), KEY)).toBe("seed-value");
  });

  it("still reads secret files written in the former JSON format, and writes the merged one", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "token.secret.json"), JSON.stringify(legacySecretFile(KEY, "token", "s3cr3t")));
    const store = createSecretStore({ dir, key: KEY });
    expect(await store.get("token")).toBe("s3cr3t");
    await expect(createSecretStore({ dir, key: randomBytes(32) }).get("token")).rejects.toThrow(
      /secret 'token'.*LAKEBOOK_SECRET_KEY differs/,
    );
    await store.set("token", "n3w");
    const file = JSON.parse(await readFile(join(dir, "token.secret.json"), "utf8"));
    expect(Object.keys(file)).toEqual(["sealed"]);
    expect(file.sealed).toMatch(/^lb2\./);
    expect(open(file.sealed, KEY, "token")).toBe("n3w");
    expect(await store.get("token")).toBe("n3w");
  });
});
