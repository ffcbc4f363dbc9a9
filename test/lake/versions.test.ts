import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VersionConflictError } from "../../src/errors.ts";
import {
  type ManifestDraft,
  commitVersion,
  createFsStorage,
  landBytes,
  listVersionNumbers,
  maybeHead,
  readManifest,
} from "../../src/lake/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

function draft(dataset: string, rows: number): ManifestDraft {
  return {
    zone: "staging",
    dataset,
    writeId: `w${rows}`,
    schema: [{ name: "ticker", type: "VARCHAR" }],
    rowCount: rows,
    bytes: 0,
    files: [],
    rejects: { count: 0, key: null },
    lineage: { inputs: [], landing: [] },
    sourceRun: null,
    quality: null,
  };
}

describe("version commits", () => {
  it("numbers versions from 1 and links each to its parent", async () => {
    const storage = createFsStorage(await tempDir());
    const v1 = await commitVersion(storage, "staging", draft("prices", 1), { expectedParent: null });
    const v2 = await commitVersion(storage, "staging", draft("prices", 2), { expectedParent: 1 });
    expect([v1.version, v1.parent, v2.version, v2.parent]).toEqual([1, null, 2, 1]);
    expect(await listVersionNumbers(storage, "staging", "prices")).toEqual([1, 2]);
    expect((await maybeHead(storage, "staging", "prices"))?.rowCount).toBe(2);
    expect((await readManifest(storage, "staging", "prices", 1)).rowCount).toBe(1);
  });

  it("rejects a commit based on a stale head with a typed conflict", async () => {
    const storage = createFsStorage(await tempDir());
    await commitVersion(storage, "staging", draft("prices", 1), { expectedParent: null });
    await expect(
      commitVersion(storage, "staging", draft("prices", 9), { expectedParent: null }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await maybeHead(storage, "staging", "prices"))?.rowCount).toBe(1);
  });

  it("lets one of two concurrent writers commit and never mixes their versions", async () => {
    const storage = createFsStorage(await tempDir());
    const results = await Promise.allSettled([
      commitVersion(storage, "staging", draft("prices", 10), { expectedParent: null }),
      commitVersion(storage, "staging", draft("prices", 20), { expectedParent: null }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await listVersionNumbers(storage, "staging", "prices")).toEqual([1]);
    expect([10, 20]).toContain((await maybeHead(storage, "staging", "prices"))?.rowCount);
  });

  it("refuses hostile dataset names", async () => {
    const storage = createFsStorage(await tempDir());
    await expect(
      commitVersion(storage, "staging", draft("a/../b", 1), { expectedParent: null }),
    ).rejects.toThrow("invalid dataset name 'a/../b': use 1 to 64 letters, digits, _ and -");
  });
});

describe("landing", () => {
  it("lands bytes with provenance and adds nothing when the same bytes land again", async () => {
    const storage = createFsStorage(await tempDir());
    const now = new Date("2026-01-02T03:04:05Z");
    const first = await landBytes(storage, {
      source: "api",
      origin: "https://example.test/x.csv",
      data: Buffer.from("a,b\n1,2\n"),
      extension: "csv",
      contentType: "text/csv",
      now,
    });
    expect(first.created).toBe(true);
    expect(first.record).toMatchObject({
      source: "api",
      bytes: 8,
      fetchedAt: "2026-01-02T03:04:05.000Z",
      sha256: createHash("sha256").update("a,b\n1,2\n").digest("hex"),
    });
    expect(first.record.key).toBe(`landing/source=api/date=2026-01-02/${first.record.sha256}.csv`);
    expect((await storage.read(first.record.key)).toString()).toBe("a,b\n1,2\n");
    const again = await landBytes(storage, {
      source: "api",
      origin: "https://example.test/x.csv",
      data: Buffer.from("a,b\n1,2\n"),
      extension: "csv",
      contentType: "text/csv",
    });
    expect(again).toEqual({ record: first.record, created: false });
    expect((await storage.list("landing/")).length).toBe(2);
  });
});
