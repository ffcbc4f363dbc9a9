import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { listValidations } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { CLEAN_ROWS, EXCHANGES, PLANTED_ROWS, PLANTED_SUITE_YAML, commitRows, tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();
const BIN = resolve("bin/lakebook.js");

async function lakebook(
  root: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, LAKEBOOK_ROOT: root, LAKEBOOK_LAKE_DIR: join(root, "lake") },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function project(rows: string): Promise<string> {
  const root = await tempDir();
  const lake = await tempLake(root);
  await commitRows(lake, "curated", "exchanges", EXCHANGES);
  await commitRows(lake, "raw", "trades", rows);
  await mkdir(join(root, "quality"));
  await writeFile(join(root, "quality", "raw.trades.yaml"), PLANTED_SUITE_YAML);
  return root;
}

describe("lakebook validate", () => {
  it("prints a table and exits 1 when a fail expectation fails", async () => {
    const root = await project(PLANTED_ROWS);
    const { code, stdout, stderr } = await lakebook(root, ["validate", "raw/trades"]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL +code_format +fail +1 of 111 rows fail +1 \(0\.901%\)$/m);
    expect(stdout).toContain('"tag":"bad_code"');
    expect(stderr).toMatch(/^lakebook: raw\/trades v1 failed ticker_present, /);
    expect(await listValidations(await tempLake(root), "raw", "trades")).toHaveLength(1);
  });

  it("prints JSON with --json and exits 0 when everything passes", async () => {
    const root = await project(CLEAN_ROWS);
    const { code, stdout } = await lakebook(root, ["validate", "raw/trades", "--json", "--version", "1"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: "pass", version: 1, rowCount: 100 });
  });

  it("says how to add a suite when the dataset has none", async () => {
    const root = await project(CLEAN_ROWS);
    const { code, stderr } = await lakebook(root, ["validate", "curated/exchanges"]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `no quality suite for curated/exchanges: add ${join(root, "quality", "curated.exchanges.yaml")}`,
    );
  });

  it("refuses a target that is not zone/dataset", async () => {
    const { code, stderr } = await lakebook(await tempDir(), ["validate", "prices"]);
    expect(code).toBe(2);
    expect(stderr).toContain("usage: lakebook validate <zone>/<dataset>");
  });
});
