/**
 * Incremental models against full rebuilds: after every append (new keys, changed keys, keys
 * repeated within an append, late rows that must lose, the latest row of a key arriving twice),
 * the incremental output holds exactly the rows the same model rebuilt in full holds; it reads
 * only the input files added since its last version, rewrites only the files holding changed
 * keys, falls back to a full rebuild when its input was rewritten, and compaction keeps the rows.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  collectGarbage,
  commitVersion,
  createLake,
  listVersionNumbers,
  maybeHead,
  readManifest,
  verifyVersion,
} from "../../src/lake/index.ts";
import { compact, parquetRelation, promote, withDb } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { APPENDS, append, sortedRows, step } from "./fixtures/incrementalModel.ts";

const tempDir = useTempDirs();
const CHILD = fileURLToPath(new URL("./fixtures/incrementalChild.ts", import.meta.url));

function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code !== 0 && code !== null
        ? reject(new Error(`child failed (${code}): ${stderr}`))
        : resolve({ code, signal }),
    );
  });
}

describe("incremental models", () => {
  it("hold the rows a full rebuild gives after every append, rewriting only files with changed keys", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    for (const [i, rows] of APPENDS.entries()) {
      await append(lake, rows);
      const full = await promote(lake, step("full", false));
      const incremental = await promote(lake, step("inc", true));
      expect(full.created && incremental.created).toBe(true);
      expect(await sortedRows(lake, "inc")).toEqual(await sortedRows(lake, "full"));
      expect(incremental.manifest.rowCount).toBe(full.manifest.rowCount);
      expect(await verifyVersion(lake.storage, incremental.manifest)).toEqual([]);
      const write = incremental.write!;
      if (i === 0) {
        expect(write).toMatchObject({ mode: "full", reason: "the output has no version yet", inputFiles: 1 });
        expect(write.addedFiles).toBe(5); // 200 rows, 40 per file
        continue;
      }
      // Only the append's file is read; files without a changed key are kept as they are.
      expect(write).toMatchObject({ mode: "incremental", inputFiles: 1 });
      const previous = (await readManifest(lake.storage, "curated", "inc", incremental.manifest.version - 1))
        .files;
      const kept = incremental.manifest.files.filter((f) => previous.some((p) => p.key === f.key));
      expect(kept.length).toBe(previous.length - write.replacedFiles);
      expect(write.replacedFiles).toBeLessThan(previous.length);
    }
    // The last append changed key 3 only: one file rewritten, the other files kept.
    const last = (await maybeHead(lake.storage, "curated", "inc"))!;
    expect(last.lineage.inputs).toEqual([{ zone: "raw", dataset: "events", version: APPENDS.length }]);
    const rows = await sortedRows(lake, "inc");
    expect(rows.find((r) => r.id === "3")).toMatchObject({ region: "r0", rev: "7", amount2: "6.60" });
    expect(rows.find((r) => r.id === "0")).toMatchObject({ rev: "1" });
    expect(rows.find((r) => r.id === "195")).toMatchObject({ region: "moved", rev: "3" });
    expect(rows.find((r) => r.id === "101")).toMatchObject({ rev: "1" });

    // Up to date: a rerun commits nothing.
    expect((await promote(lake, step("inc", true))).created).toBe(false);
  });

  it("reads only the input files added since its last version", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await append(lake, APPENDS[0]!);
    await promote(lake, step("inc", true));
    await append(lake, APPENDS[1]!);
    await promote(lake, step("inc", true));
    // Every input file read so far is made unreadable: a run that opened one would fail.
    const raw = (await maybeHead(lake.storage, "raw", "events"))!;
    for (const file of raw.files) await writeFile(await lake.storage.localPath(file.key), "not parquet");
    await append(lake, APPENDS[2]!);
    const result = await promote(lake, step("inc", true));
    expect(result.write).toMatchObject({ mode: "incremental", inputFiles: 1 });

    const reference = createLake({ lakeDir: join(await tempDir(), "lake") });
    for (const rows of APPENDS.slice(0, 3)) await append(reference, rows);
    await promote(reference, step("full", false));
    expect(await sortedRows(lake, "inc")).toEqual(await sortedRows(reference, "full"));
  });

  it("rebuilds in full when its input was rewritten instead of appended to", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    await append(lake, APPENDS[0]!);
    await append(lake, APPENDS[1]!);
    await promote(lake, step("inc", true));
    // A new raw version without its first file (as a rewrite or a replaced landing would leave).
    const raw = (await maybeHead(lake.storage, "raw", "events"))!;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { formatVersion, version, parent, createdAt, ...draft } = raw;
    const files = raw.files.slice(1);
    await commitVersion(
      lake.storage,
      "raw",
      { ...draft, files, rowCount: files.reduce((n, f) => n + f.rows, 0) },
      { expectedParent: version },
    );
    const incremental = await promote(lake, step("inc", true));
    expect(incremental.write?.mode).toBe("full");
    expect(incremental.write?.reason).toMatch(/raw\/events was rewritten \(1 file\(s\) of v2 are gone\)/);
    await promote(lake, step("full", false));
    expect(await sortedRows(lake, "inc")).toEqual(await sortedRows(lake, "full"));
    expect(await sortedRows(lake, "inc")).toHaveLength(50);
  });

  it("compaction keeps the rows, sorts them into full files, and later increments merge into it", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    for (const rows of APPENDS.slice(0, 3)) {
      await append(lake, rows);
      await promote(lake, step("inc", true));
    }
    const before = (await maybeHead(lake.storage, "curated", "inc"))!;
    const rowsBefore = await sortedRows(lake, "inc");
    const compacted = await compact(
      lake,
      { zone: "curated", dataset: "inc" },
      { orderBy: ["id"], fileRows: 100 },
    );
    expect(compacted).toMatchObject({ created: true, filesBefore: before.files.length, filesAfter: 3 });
    expect(compacted.manifest.version).toBe(before.version + 1);
    expect(compacted.manifest.lineage).toMatchObject({
      ...before.lineage,
      compaction: { from: before.version },
    });
    expect(await sortedRows(lake, "inc")).toEqual(rowsBefore);
    expect(await verifyVersion(lake.storage, compacted.manifest)).toEqual([]);
    // Sorted across files, in file order.
    const paths = await Promise.all(compacted.manifest.files.map((f) => lake.storage.localPath(f.key)));
    const ids = await withDb((db) => db.all(`SELECT id FROM ${parquetRelation(paths)}`));
    const order = ids.map((r) => Number(r.id));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Compacting again changes nothing; the model is still up to date.
    expect((await compact(lake, { zone: "curated", dataset: "inc" }, { orderBy: ["id"] })).created).toBe(
      false,
    );
    expect((await promote(lake, step("inc", true))).created).toBe(false);

    // Keys 3 and 195 change: the compacted files of ids 0-99 and 100-199 are rewritten, 200-239 kept.
    await append(lake, APPENDS[3]!);
    const next = await promote(lake, step("inc", true));
    expect(next.write).toMatchObject({ mode: "incremental", inputFiles: 1, replacedFiles: 2 });
    expect(next.manifest.files.map((f) => f.key)).toContain(compacted.manifest.files[2]!.key);
    await promote(lake, step("full", false));
    expect(await sortedRows(lake, "inc")).toEqual(await sortedRows(lake, "full"));
  });

  it("gates the whole next version: the kept files and the merged rows", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const seen: number[] = [];
    const gated = {
      ...step("inc", true),
      gate: {
        async check(candidate: { rowCount: number }) {
          seen.push(candidate.rowCount);
          return { quality: null };
        },
      },
    };
    for (const rows of APPENDS.slice(0, 2)) {
      await append(lake, rows);
      await promote(lake, gated);
    }
    const head = (await maybeHead(lake.storage, "curated", "inc"))!;
    expect(seen).toEqual([200, head.rowCount]);
    expect(head.rowCount).toBe(240);
  });

  it("refuses an incremental step without a key, latestBy or with several inputs", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const base = step("inc", true);
    await expect(promote(lake, { ...base, latestBy: undefined })).rejects.toThrow(
      "step curated/inc is incremental: give it a key and latestBy to merge new rows by",
    );
    await expect(
      promote(lake, { ...base, inputs: { ...base.inputs, other: { zone: "raw", dataset: "other" } } }),
    ).rejects.toThrow("step curated/inc is incremental: it must read exactly one dataset");
  });

  it("a SIGKILL after the merge wrote its files leaves the previous version intact; the rerun commits once", async () => {
    const lakeDir = join(await tempDir(), "lake");
    const lake = createLake({ lakeDir });
    for (const rows of APPENDS.slice(0, 2)) {
      await append(lake, rows);
      await promote(lake, step("inc", true));
    }
    const before = await sortedRows(lake, "inc");
    await append(lake, APPENDS[2]!);

    expect((await runChild([lakeDir, "commit"])).signal).toBe("SIGKILL");
    expect(await listVersionNumbers(lake.storage, "curated", "inc")).toEqual([1, 2]);
    const head = (await maybeHead(lake.storage, "curated", "inc"))!;
    expect(await verifyVersion(lake.storage, head)).toEqual([]);
    expect(await sortedRows(lake, "inc")).toEqual(before);
    // The killed merge's files are orphans that gc finds; nothing a version names is among them.
    const orphans = (await collectGarbage(lake, { graceMs: 0 })).candidates.filter(
      (c) => c.where === "store",
    );
    expect(orphans.length).toBeGreaterThan(0);
    expect(
      orphans.every((c) => c.key.startsWith("curated/inc/data/") && !head.files.some((f) => f.key === c.key)),
    ).toBe(true);

    expect((await runChild([lakeDir, "none"])).code).toBe(0);
    expect(await listVersionNumbers(lake.storage, "curated", "inc")).toEqual([1, 2, 3]);
    await promote(lake, step("full", false));
    expect(await sortedRows(lake, "inc")).toEqual(await sortedRows(lake, "full"));
    await collectGarbage(lake, { graceMs: 0, apply: true });
    for (const version of [1, 2, 3]) {
      const manifest = await readManifest(lake.storage, "curated", "inc", version);
      expect(await verifyVersion(lake.storage, manifest)).toEqual([]);
    }
  });
});
