/**
 * Crash safety: a child process runs the market pipeline and is killed with SIGKILL at chosen
 * points of an ingest and a promotion, and at arbitrary moments. After every crash each committed
 * version is intact and readable; the rerun commits exactly once; no row is lost or doubled; gc
 * finds what the crash left and removes only that.
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMarketPipeline } from "../helpers/market.ts";
import {
  type Lake,
  type VersionedZone,
  collectGarbage,
  createLake,
  listDatasets,
  listVersionNumbers,
  readManifest,
  verifyVersion,
} from "../../src/lake/index.ts";
import { readSnapshot } from "../../src/pipeline/index.ts";
import { qualityHistory } from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const CHILD = fileURLToPath(new URL("./fixtures/crashChild.ts", import.meta.url));
const CORRECTION = "symbol,date,price\nMSFT,Jan 1 2000,40.00\nMSFT,Apr 1 2010,30.5\n";
const LATER = "2026-01-02T00:00:00Z";

let baseLake: string;
let baseRows: number;

let baseDir: string;

beforeAll(async () => {
  // Not a per-test temp dir: every test copies this lake.
  baseDir = await mkdtemp(join(tmpdir(), "lakebook-crash-"));
  baseLake = join(baseDir, "lake");
  const result = await runMarketPipeline(createLake({ lakeDir: baseLake }), {
    now: new Date("2026-01-01T00:00:00Z"),
  });
  baseRows = result.curated.rowCount;
});
afterAll(async () => {
  await rm(baseDir, { recursive: true, force: true });
});

/** A copy of the lake after one complete pipeline run, and the correction file to ingest next. */
async function setup(): Promise<{ lake: Lake; lakeDir: string; csv: string }> {
  const dir = await tempDir();
  const lakeDir = join(dir, "lake");
  await cp(baseLake, lakeDir, { recursive: true });
  const csv = join(dir, "correction.csv");
  await writeFile(csv, CORRECTION);
  return { lake: createLake({ lakeDir }), lakeDir, csv };
}

function runChild(
  args: string[],
  killAfterMs?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && code !== null) reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ code, signal });
    });
  });
}

/** Every committed version of every dataset verifies against its manifest. */
async function assertAllVersionsIntact(lake: Lake): Promise<void> {
  for (const zone of ["raw", "staging", "curated"] as VersionedZone[]) {
    for (const dataset of await listDatasets(lake.storage, zone)) {
      for (const version of await listVersionNumbers(lake.storage, zone, dataset)) {
        const manifest = await readManifest(lake.storage, zone, dataset, version);
        expect(await verifyVersion(lake.storage, manifest), `${zone}/${dataset} v${version}`).toEqual([]);
      }
    }
  }
}

async function msftRows(lake: Lake) {
  const snapshot = await readSnapshot(lake, "curated", "prices");
  return snapshot.rows
    .filter((r) => r.ticker === "MSFT" && (r.date === "2000-01-01" || r.date === "2010-04-01"))
    .map((r) => [r.date, r.close]);
}

describe("crash safety", () => {
  const deadGate = "validation result of a write that was never committed";
  it.each([
    ["landing-record", ["landed bytes without a provenance record"]],
    ["raw-commit", ["named by no committed version"]],
    // A promotion killed after its gate passed also leaves the gate's result, which counts for nothing.
    ["staging-commit", ["named by no committed version", deadGate]],
    ["curated-commit", ["named by no committed version", deadGate]],
  ])(
    "a SIGKILL at %s leaves the previous version intact and the rerun commits once",
    async (killAt, orphans) => {
      const { lake, lakeDir, csv } = await setup();
      const crashed = await runChild([lakeDir, csv, LATER, killAt]);
      expect(crashed.signal).toBe("SIGKILL");

      // Readers still see the previous curated version, whole.
      await assertAllVersionsIntact(lake);
      expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1]);
      expect((await readSnapshot(lake, "curated", "prices")).rows).toHaveLength(baseRows);

      // gc finds the crash's leftovers (dry-run deletes nothing) ...
      const dryRun = await collectGarbage(lake, { graceMs: 0 });
      expect(dryRun.applied).toBe(false);
      expect(
        dryRun.candidates
          .filter((c) => c.where === "store")
          .map((c) => c.reason)
          .sort(),
      ).toEqual(orphans);
      expect(await collectGarbage(lake, { graceMs: 0 })).toEqual(dryRun);

      // ... and the rerun commits each zone exactly once, with every row once.
      expect((await runChild([lakeDir, csv, LATER, "none"])).code).toBe(0);
      expect(await listVersionNumbers(lake.storage, "raw", "vega_stocks")).toEqual([1, 2]);
      expect(await listVersionNumbers(lake.storage, "staging", "prices")).toEqual([1, 2]);
      expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2]);
      expect((await readSnapshot(lake, "curated", "prices")).rows).toHaveLength(baseRows + 1);
      expect(await msftRows(lake)).toEqual([
        ["2000-01-01", "40.0000"],
        ["2010-04-01", "30.5000"],
      ]);
      // Quality history holds one run per committed version, none of the killed promotion.
      for (const zone of ["staging", "curated"] as const) {
        const history = await qualityHistory(lake, zone, "prices");
        expect(history.map((h) => h.version)).toEqual([1, 2]);
      }

      const applied = await collectGarbage(lake, { graceMs: 0, apply: true });
      expect(applied.applied).toBe(true);
      expect(await collectGarbage(lake, { graceMs: 0 })).toMatchObject({ candidates: [] });
      await assertAllVersionsIntact(lake);
      expect((await readSnapshot(lake, "curated", "prices", { version: 1 })).rows).toHaveLength(baseRows);
    },
  );

  it("SIGKILLs at arbitrary moments never damage a committed version, and the last run completes once", async () => {
    const { lake, lakeDir, csv } = await setup();
    // Deterministic spread of kill delays across the child's start-up and its writes.
    for (const delay of [150, 450, 650, 800, 950]) {
      await runChild([lakeDir, csv, LATER, "none"], delay);
      await assertAllVersionsIntact(lake);
      const curated = await listVersionNumbers(lake.storage, "curated", "prices");
      expect(curated.length === 1 || curated.length === 2).toBe(true);
    }
    expect((await runChild([lakeDir, csv, LATER, "none"])).code).toBe(0);
    expect(await listVersionNumbers(lake.storage, "curated", "prices")).toEqual([1, 2]);
    expect(await listVersionNumbers(lake.storage, "raw", "vega_stocks")).toEqual([1, 2]);
    expect((await readSnapshot(lake, "curated", "prices")).rows).toHaveLength(baseRows + 1);
    await collectGarbage(lake, { graceMs: 0, apply: true });
    await assertAllVersionsIntact(lake);
  });
});

describe("gc", () => {
  it("keeps orphans younger than the grace period, since a writer may still commit them", async () => {
    const { lake, lakeDir, csv } = await setup();
    await runChild([lakeDir, csv, LATER, "curated-commit"]);
    const result = await collectGarbage(lake);
    expect(result.candidates).toEqual([]);
    const later = await collectGarbage(lake, { now: () => new Date(Date.now() + 2 * 60 * 60 * 1000) });
    // The promotion's data file and its gate's result.
    expect(later.candidates.filter((c) => c.where === "store")).toHaveLength(2);
  });
});
