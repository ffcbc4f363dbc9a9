import { randomBytes } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";
import {
  createSecretStore,
  parseSecretKey,
  secretStoreFromConfig,
  secretsDir,
} from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const KEY = randomBytes(32).toString("base64");

describe("secret store", () => {
  it("returns what was stored and keeps only ciphertext on disk", async () => {
    const dir = await tempDir();
    const store = createSecretStore({ dir, key: KEY });
    await store.set("site-password", "hunter2-très-secret");
    expect(await store.get("site-password")).toBe("hunter2-très-secret");
    const files = await readdir(dir);
    expect(files).toEqual(["site-password.secret.json"]);
    const text = await readFile(join(dir, files[0]!), "utf8");
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text).sealed).toMatch(/^lb2\./);
  });

  it("accepts the key as 64 hex digits as well as base64", async () => {
    const dir = await tempDir();
    const raw = randomBytes(32);
    await createSecretStore({ dir, key: raw.toString("hex") }).set("a", "1");
    expect(await createSecretStore({ dir, key: raw.toString("base64") }).get("a")).toBe("1");
  });

  it("refuses to read with a different key, saying the key differs", async () => {
    const dir = await tempDir();
    await createSecretStore({ dir, key: KEY }).set("seed", "JBSWY3DPEHPK3PXP");
    const other = createSecretStore({ dir, key: randomBytes(32).toString("base64") });
    await expect(other.get("seed")).rejects.toThrow(
      /cannot decrypt secret 'seed'.*LAKEBOOK_SECRET_KEY differs from the key used to store it/,
    );
    await expect(other.get("seed")).rejects.toBeInstanceOf(ConfigError);
  });

  it("detects a modified file instead of returning garbage", async () => {
    const dir = await tempDir();
    const store = createSecretStore({ dir, key: KEY });
    await store.set("token", "abc");
    const path = join(dir, "token.secret.json");
    const file = JSON.parse(await readFile(path, "utf8"));
    const parts = file.sealed.split(".");
    parts[4] = Buffer.from("xyz").toString("base64url");
    file.sealed = parts.join(".");
    await writeFile(path, JSON.stringify(file));
    await expect(store.get("token")).rejects.toThrow(/cannot decrypt secret 'token'.*modified/);
  });

  it("says which secret is missing", async () => {
    const store = createSecretStore({ dir: await tempDir(), key: KEY });
    expect(await store.maybeGet("nope")).toBeUndefined();
    await expect(store.get("nope")).rejects.toThrow(/secret 'nope' is not stored/);
  });

  it("rejects a missing or malformed key with a ConfigError that does not echo it", () => {
    expect(() => parseSecretKey(undefined)).toThrow(/LAKEBOOK_SECRET_KEY is not set/);
    expect(() => parseSecretKey("c2hvcnQ=")).toThrow(ConfigError);
    try {
      parseSecretKey("not-a-key-but-a-password");
    } catch (error) {
      expect((error as Error).message).toMatch(/malformed/);
      expect((error as Error).message).not.toContain("not-a-key-but-a-password");
    }
  });

  it("lives beside the lake folder, not inside it", async () => {
    const root = await tempDir();
    const config = normalizeConfig({ root, lakeDir: "data/lake", secretKey: KEY });
    expect(secretsDir(config)).toBe(join(root, "data", "secrets"));
    await secretStoreFromConfig(config).set("x", "y");
    expect(await readdir(join(root, "data", "secrets"))).toEqual(["x.secret.json"]);
    expect(() => secretStoreFromConfig(normalizeConfig({ root }))).toThrow(/LAKEBOOK_SECRET_KEY is not set/);
  });
});
