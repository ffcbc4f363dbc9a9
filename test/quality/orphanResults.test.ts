/**
 * A promotion that dies after its gate passed (a crash, or a storage failure at the commit)
 * leaves a passing result of a candidate that never became a version. It must not count as a
 * result of anything, and `lake gc` removes it; results of committed versions and of blocked
 * gates stay.
 */
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors.ts";
import { type Lake, type Storage, collectGarbage, listVersionNumbers } from "../../src/lake/index.ts";
import { promote } from "../../src/pipeline/index.ts";
import {
  latestValidation,
  listValidations,
  parseSuite,
  qualityGate,
  qualityHistory,
  qualityReport,
} from "../../src/quality/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { CLEAN_ROWS, EXCHANGES, PLANTED_ROWS, PLANTED_SUITE_YAML, commitRows, tempLake } from "./fixtures.ts";

const tempDir = useTempDirs();
const SUITE = parseSuite(
  PLANTED_SUITE_YAML.replace("zone: raw", "zone: staging"),
  "quality/staging.trades.yaml",
);

/** The lake, with every version commit of staging failing as a crash at that point would. */
function failingCommits(lake: Lake): Lake {
  const { storage } = lake;
  const failing: Storage = {
    location: storage.location,
    read: (key) => storage.read(key),
    maybeRead: (key) => storage.maybeRead(key),
    write: (key, data) => storage.write(key, data),
    putFile: (key, path) => storage.putFile(key, path),
    localPath: (key) => storage.localPath(key),
    stat: (key) => storage.stat(key),
    list: (prefix) => storage.list(prefix),
    delete: (key) => storage.delete(key),
    async writeIfAbsent(key, data) {
      if (key.startsWith("staging/") && key.includes("/_versions/"))
        throw new StorageError("the disk went away");
      return storage.writeIfAbsent(key, data);
    },
  };
  return { ...lake, storage: failing };
}

function promoteTrades(lake: Lake) {
  return promote(lake, {
    inputs: { trades: { zone: "raw", dataset: "trades" } },
    output: { zone: "staging", dataset: "trades" },
    sql: "SELECT * FROM trades",
    orderBy: ["id", "tag"],
    gate: qualityGate(lake, SUITE),
  });
}

describe("results of promotions that never committed", () => {
  it("count in neither the history nor the latest run, and gc removes them but keeps blocked gates", async () => {
    const lake = await tempLake(await tempDir());
    await commitRows(lake, "curated", "exchanges", EXCHANGES);
    await commitRows(lake, "raw", "trades", CLEAN_ROWS);
    await promoteTrades(lake);
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    await expect(promoteTrades(lake)).rejects.toThrow(/failed its quality gate/);
    await commitRows(lake, "raw", "trades", CLEAN_ROWS);
    await expect(promoteTrades(failingCommits(lake))).rejects.toThrow(/the disk went away/);
    expect(await listVersionNumbers(lake.storage, "staging", "trades")).toEqual([1]);

    const stored = await listValidations(lake, "staging", "trades");
    expect(stored.map((r) => r.status)).toEqual(["pass", "fail", "pass"]);
    const orphan = `staging/trades/_quality/${stored[2]!.runId}.json`;

    const history = await qualityHistory(lake, "staging", "trades");
    expect(history.map((h) => [h.status, h.version, h.blocked])).toEqual([
      ["pass", 1, false],
      ["fail", null, true],
    ]);
    // The blocked run stays the newest: the dead promotion's pass does not hide the failure.
    expect((await latestValidation(lake, "staging", "trades"))?.status).toBe("fail");
    const report = await qualityReport(lake);
    expect(report.datasets.find((d) => d.dataset === "trades")?.history).toHaveLength(2);

    // Within the grace period a promotion may still be about to commit: nothing is collected.
    expect((await collectGarbage(lake)).candidates.map((c) => c.key)).not.toContain(orphan);
    const dryRun = await collectGarbage(lake, { graceMs: 0 });
    const results = dryRun.candidates.filter((c) => c.key.includes("/_quality/"));
    expect(results).toEqual([
      expect.objectContaining({
        key: orphan,
        reason: "validation result of a write that was never committed",
      }),
    ]);
    expect(dryRun.candidates.map((c) => c.key)).toContainEqual(
      expect.stringMatching(/^staging\/trades\/data\//),
    );

    await collectGarbage(lake, { graceMs: 0, apply: true });
    expect((await listValidations(lake, "staging", "trades")).map((r) => r.status)).toEqual(["pass", "fail"]);
    expect((await collectGarbage(lake, { graceMs: 0 })).candidates).toEqual([]);
    expect(await qualityHistory(lake, "staging", "trades")).toEqual(history);
  });

  it("a quarantine file of a dead promotion is collected with its result", async () => {
    const lake = await tempLake(await tempDir());
    await commitRows(lake, "curated", "exchanges", EXCHANGES);
    await commitRows(lake, "raw", "trades", PLANTED_ROWS);
    const quarantining = parseSuite(
      PLANTED_SUITE_YAML.replace("zone: raw", "zone: staging").replaceAll(
        /^( {2}- id: .*)$/gm,
        "$1\n    quarantine: true",
      ),
      "quality/staging.trades.yaml",
    );
    const failing = failingCommits(lake);
    await expect(
      promote(failing, {
        inputs: { trades: { zone: "raw", dataset: "trades" } },
        output: { zone: "staging", dataset: "trades" },
        sql: "SELECT * FROM trades",
        gate: qualityGate(failing, quarantining),
      }),
    ).rejects.toThrow(/the disk went away/);
    const dryRun = await collectGarbage(lake, { graceMs: 0 });
    expect(dryRun.candidates.map((c) => c.reason).sort()).toEqual([
      "named by no committed version",
      "quarantined rows of a write that was never committed",
      "validation result of a write that was never committed",
    ]);
  });
});
