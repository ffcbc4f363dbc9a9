import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore, TEST_DATABASE_URL, type TestStore } from "./store.ts";

let db: TestStore;
let root: string;

beforeAll(async () => {
  db = await openTestStore();
  root = await mkdtemp(join(tmpdir(), "lakebook-cli-"));
});

afterAll(async () => {
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

/** Runs `lakebook <args>` against this file's PostgreSQL schema. */
function lakebook(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/lakebook.js", ...args], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        LAKEBOOK_ROOT: root,
        LAKEBOOK_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe("lakebook user and publish", () => {
  it("adds, grants, lists and removes users with hashed passwords and an audit trail", async () => {
    const added = await lakebook(
      ["user", "add", "ann", "--role", "admin", "--totp"],
      "correct horse battery\n",
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/otpauth:\/\/totp\/Lakebook:ann\?/);
    const stored = await db.store.maybeUser("ann");
    expect(stored?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(stored?.totpSeed).toMatch(/^lb2\./);
    expect((await lakebook(["user", "add", "bob", "--role", "viewer"], "correct horse battery")).code).toBe(
      0,
    );
    expect(
      (await lakebook(["user", "grant", "bob", "--groups", "finance,hr", "--role", "analyst"])).code,
    ).toBe(0);
    expect(await db.store.maybeUser("bob")).toMatchObject({ role: "analyst", groups: ["finance", "hr"] });
    const last = await lakebook(["user", "remove", "ann"]);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/last admin/);
    expect((await lakebook(["user", "list"])).stdout).toMatch(/^ann\tadmin\t-\ttotp$/m);
    expect((await lakebook(["user", "remove", "bob"])).code).toBe(0);
    expect((await db.store.listAudit()).map((e) => e.action)).toEqual([
      "user.remove",
      "user.grant",
      "user.add",
      "user.add",
    ]);
  });

  it("refuses bad input with a message and a usage exit code", async () => {
    const weak = await lakebook(["user", "add", "eve", "--role", "viewer"], "short");
    expect(weak).toMatchObject({ code: 2 });
    expect(weak.stderr).toMatch(/at least 10 characters/);
    expect(
      (await lakebook(["user", "add", "eve", "--role", "root"], "correct horse battery")).stderr,
    ).toMatch(/--role must be one of/);
    expect((await lakebook(["user", "add", "../etc", "--role", "viewer"])).code).toBe(2);
    expect((await lakebook(["publish", "access", "/a/../b", "x"])).code).toBe(2);
    expect(await db.store.maybeUser("eve")).toBeUndefined();
  });

  it("sets access rules and reports that there is nothing to roll back to", async () => {
    expect((await lakebook(["publish", "access", "/finance/", "finance"])).code).toBe(0);
    expect(await db.store.listAccessRules()).toEqual([{ path: "/finance/", groups: ["finance"] }]);
    const rollback = await lakebook(["publish", "rollback"]);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toMatch(/nothing is published yet/);
  });
});
