import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizeConfig } from "../../src/config.ts";
import { secretStoreFromConfig } from "../../src/sources/index.ts";
import { runLakebook } from "../helpers/cli.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

function lakebook(args: string[], env: Record<string, string>, stdin: string) {
  return runLakebook(args, { env: { ...process.env, ...env }, stdin });
}

describe("lakebook secret", () => {
  it("stores a piped secret encrypted, never printing or writing it in clear", async () => {
    const lakeDir = join(await tempDir(), "lake");
    const key = randomBytes(32).toString("base64");
    const result = await lakebook(
      ["secret", "set", "broker-password"],
      { LAKEBOOK_LAKE_DIR: lakeDir, LAKEBOOK_SECRET_KEY: key },
      "s3cr3t-Pa55\n",
    );
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain("s3cr3t-Pa55");
    const store = secretStoreFromConfig(normalizeConfig({ lakeDir, secretKey: key }));
    expect(await store.get("broker-password")).toBe("s3cr3t-Pa55");
    for (const file of await readdir(store.dir)) {
      expect(await readFile(join(store.dir, file), "utf8")).not.toContain("s3cr3t-Pa55");
    }
  });

  it("refuses a value on the command line and a missing key, with what to do", async () => {
    const lakeDir = join(await tempDir(), "lake");
    const onCommandLine = await lakebook(
      ["secret", "set", "pw", "hunter2"],
      { LAKEBOOK_LAKE_DIR: lakeDir },
      "",
    );
    expect(onCommandLine.code).toBe(2);
    expect(onCommandLine.stderr).toContain("secret values are read from the terminal or stdin");
    const noKey = await lakebook(
      ["secret", "set", "pw"],
      { LAKEBOOK_LAKE_DIR: lakeDir, LAKEBOOK_SECRET_KEY: "" },
      "x\n",
    );
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/LAKEBOOK_SECRET_KEY/);
  });
});
