/**
 * `lakebook publish list | head`, `publish rollback [buildId]` and `secret list`, run as a user
 * runs them: the real CLI in a child process on a temp project (embedded store in its folder).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readlink, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore, TEST_DATABASE_URL, type TestStore } from "../server/store.ts";
import { REPO_ROOT, runLakebook } from "../helpers/cli.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

/** A project folder with `count` kept builds, the newest live. */
async function projectWithBuilds(count: number): Promise<{ root: string; ids: string[] }> {
  const root = await tempDir();
  const ids = Array.from(
    { length: count },
    (_, i) =>
      `2026${String(Math.floor(i / 28) + 1).padStart(2, "0")}${String((i % 28) + 1).padStart(2, "0")}T000000000Z-${i.toString(16).padStart(6, "0")}`,
  ).sort();
  for (const id of ids) await mkdir(join(root, "data/site/builds", id, ".lakebook"), { recursive: true });
  await symlink(`builds/${ids.at(-1)}`, join(root, "data/site/current"));
  return { root, ids };
}

let db: TestStore;

beforeAll(async () => {
  db = await openTestStore();
});

afterAll(async () => {
  await db?.drop();
});

/** The project at `root`, its records in this file's PostgreSQL schema. */
const envFor = (root: string) => ({
  ...process.env,
  LAKEBOOK_ROOT: root,
  DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`,
});

describe("lakebook publish", () => {
  it("stops quietly when the reader of its output goes away (publish list | head)", async () => {
    // More lines than a pipe holds, so the list is still writing when `head` exits.
    const { root } = await projectWithBuilds(300);
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "bash",
        ["-o", "pipefail", "-c", `"${process.execPath}" bin/lakebook.js publish list | head -n 1`],
        { cwd: REPO_ROOT, env: envFor(root) },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
  }, 60_000);

  it("rolls back to any kept build and forward again, refusing unknown ones", async () => {
    const { root, ids } = await projectWithBuilds(3);
    const env = envFor(root);
    const live = async () => (await readlink(join(root, "data/site/current"))).replace("builds/", "");

    const back = await runLakebook(["publish", "rollback", ids[0]!], { env });
    expect(back.stderr).toBe("");
    expect(back.stdout).toContain(`rolled back: ${ids[0]} is live (was ${ids[2]})`);
    expect(await live()).toBe(ids[0]);

    const forward = await runLakebook(["publish", "rollback", ids[2]!], { env });
    expect(forward.code).toBe(0);
    expect(await live()).toBe(ids[2]);

    const unknown = await runLakebook(["publish", "rollback", "20200101T000000000Z-000000"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no kept build '20200101T000000000Z-000000': choose one of");
    expect(await live()).toBe(ids[2]);

    const plain = await runLakebook(["publish", "rollback"], { env });
    expect(plain.code).toBe(0);
    expect(await live()).toBe(ids[1]);
  }, 60_000);
});

describe("lakebook secret list", () => {
  it("lists names and dates, never values", async () => {
    const root = await tempDir();
    const key = randomBytes(32).toString("base64");
    const env = { ...envFor(root), LAKEBOOK_SECRET_KEY: key };
    const empty = await runLakebook(["secret", "list"], { env });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain("no secrets stored");
    for (const [name, value] of [
      ["site-password", "pa55-w0rd-xyz"],
      ["api-token", "tok-123456789"],
    ]) {
      expect((await runLakebook(["secret", "set", name!], { env, stdin: `${value}\n` })).code).toBe(0);
    }
    const listed = await runLakebook(["secret", "list"], { env });
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines.map((line) => line.split("\t")[0])).toEqual(["api-token", "site-password"]);
    for (const line of lines) expect(line).toMatch(/\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(listed.stdout).not.toContain("pa55-w0rd-xyz");
    expect(listed.stdout).not.toContain("tok-123456789");
  }, 60_000);
});
