/**
 * Bad input and a hostile environment give a message and exit 1 (the operation failed) or 2 (bad
 * usage), never exit 70 with a stack trace, and leave the lake as it was: duplicate header names,
 * a NUL delimiter, a read-only lake folder, a quality predicate that fails while it runs.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { type CliRun, REPO_ROOT, runLakebook } from "../helpers/cli.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

function cliEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LAKEBOOK_LAKE_DIR: join(dir, "lake"),
    LAKEBOOK_ROOT: dir,
    TZ: "UTC",
  };
  for (const name of Object.keys(env)) if (name.startsWith("LAKEBOOK_S3_")) delete env[name];
  delete env.DATABASE_URL;
  return env;
}

function lakebook(dir: string, args: string[]): Promise<CliRun> {
  return runLakebook(args, { env: cliEnv(dir) });
}

/** Every file under the lake with its size and modification time (absent lake: empty). */
async function lakeState(dir: string, zones = ["raw", "staging", "curated"]): Promise<string[]> {
  const state: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const info = await stat(full);
        state.push(`${relative(dir, full)} ${info.size} ${info.mtimeMs}`);
      }
    }
  };
  for (const zone of zones) await walk(join(dir, "lake", zone));
  return state.sort();
}

function expectMessage(run: CliRun, code: number, message: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
}

async function ingest(dir: string, csv: string, columns: string, extra: string[] = []): Promise<CliRun> {
  const path = join(dir, `input-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(path, csv);
  return lakebook(dir, [
    "ingest",
    path,
    "--source",
    "feed",
    "--dataset",
    "things",
    "--columns",
    columns,
    ...extra,
  ]);
}

describe("clear messages instead of crashes", () => {
  it("refuses a header naming a column twice, and ingests nothing", async () => {
    const dir = await tempDir();
    expect((await ingest(dir, "id,code\n1,a\n", "id:BIGINT,code:VARCHAR")).code).toBe(0);
    const before = await lakeState(dir);
    const run = await ingest(dir, "id,code,code\n2,b,c\n", "id:BIGINT,code:VARCHAR");
    expectMessage(
      run,
      1,
      /the header names 'code' more than once \(found: id, code, code\); give every column its own name/,
    );
    expect(await lakeState(dir)).toEqual(before);
  });

  // A NUL cannot be passed in argv, so it comes from a spec file; a quote shows the option's path.
  it("refuses a NUL delimiter in a spec file, and a quote as --delimiter, before landing anything", async () => {
    const dir = await tempDir();
    const csv = join(dir, "input.csv");
    await writeFile(csv, "id\n1\n");
    const spec = join(dir, "spec.json");
    await writeFile(
      spec,
      JSON.stringify({ dataset: "things", columns: [{ name: "id", type: "BIGINT" }], delimiter: "\u0000" }),
    );
    const bySpec = await lakebook(dir, ["ingest", csv, "--source", "feed", "--spec", spec]);
    expectMessage(bySpec, 1, /the delimiter cannot be "\\u0000" \(NUL, a quote or a line break\)/);
    const quote = await lakebook(dir, [
      "ingest",
      csv,
      "--source",
      "feed",
      "--dataset",
      "things",
      "--columns",
      "id:BIGINT",
      "--delimiter",
      '"',
    ]);
    expectMessage(quote, 2, /--delimiter: the delimiter cannot be/);
    expect(await lakeState(dir, ["landing", "raw"])).toEqual([]);
  });

  it("reports a read-only lake folder in words, with exit 1", async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755);
    expect((await ingest(dir, "id\n1\n", "id:BIGINT")).code).toBe(0);
    const input = join(dir, "more.csv");
    await writeFile(input, "id\n2\n");
    await chmod(input, 0o644);
    const before = await lakeState(dir, ["landing", "raw"]);
    await setMode(join(dir, "lake"), 0o555);
    try {
      const run = await runAsOtherUser(
        ["ingest", input, "--source", "feed", "--dataset", "things", "--columns", "id:BIGINT"],
        cliEnv(dir),
      );
      expectMessage(
        run,
        1,
        /permission denied on .*\/lake\/.* \(EACCES\): make the lake folder \(LAKEBOOK_LAKE_DIR\) writable/,
      );
      expect(await lakeState(dir, ["landing", "raw"])).toEqual(before);
    } finally {
      await setMode(join(dir, "lake"), 0o755);
    }
  });

  it("names a predicate that fails while it runs, without the value, with exit 1", async () => {
    const dir = await tempDir();
    expect((await ingest(dir, "id,code\n1,12\n2,x-secret-value\n", "id:BIGINT,code:VARCHAR")).code).toBe(0);
    await mkdir(join(dir, "quality"));
    await writeFile(
      join(dir, "quality", "raw.things.yaml"),
      "zone: raw\ndataset: things\nexpectations:\n  - id: code_positive\n    type: sql\n    predicate: CAST(code AS INTEGER) > 0\n",
    );
    const before = await lakeState(dir);
    const run = await lakebook(dir, ["validate", "raw/things"]);
    expectMessage(
      run,
      1,
      /raw\.things\.yaml:4: expectation 1 \(code_positive\) failed to run on raw\/things: Conversion Error: Could not convert string '…' to INT32.*; fix the predicate/,
    );
    expect(run.stderr).not.toContain("x-secret-value");
    expect(await lakeState(dir)).toEqual(before);
  });
});

/** Sets the mode of every folder under `dir` (files stay readable: they are 0644). */
async function setMode(dir: string, mode: number): Promise<void> {
  if (mode !== 0o555) await chmod(dir, mode);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await setMode(join(dir, entry.name), mode);
  }
  if (mode === 0o555) await chmod(dir, mode);
}

/** Root ignores file modes, so a read-only lake is tested as another user (nobody) when root. */
function runAsOtherUser(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/lakebook.js", ...args],
      { cwd: REPO_ROOT, env: { ...env, HOME: "/tmp" }, ...asNobody },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
