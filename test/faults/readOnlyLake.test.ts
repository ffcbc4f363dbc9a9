/**
 * A read-only lake: writers must fail without changing anything, readers must keep working.
 *
 * How the lake is made read-only: the tests run as root, and root ignores file permissions
 * (chmod -w changes nothing for it), so each command runs in its own mount namespace
 * (`unshare -m`, util-linux) where the lake folder is bind-mounted onto itself and remounted
 * read-only. Every write then fails with EROFS, for root too, and the mount disappears with the
 * command; the test process keeps a writable view to compare before and after.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLake, landLocalFile } from "../../src/lake/index.ts";
import { ingestCsv, parseColumnList } from "../../src/pipeline/index.ts";
import { STOCK_COLUMNS, lakeEnv, report, runChild, writePriceCsv } from "../helpers/faults.ts";

let dir: string;
let lakeDir: string;
let csv: string;

/** `lakebook` with the lake mounted read-only for it alone. */
function readOnly(args: string[]) {
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
  return runChild(args, {
    env: lakeEnv(lakeDir),
    command: [
      "unshare",
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      lakeDir,
      process.execPath,
      "bin/lakebook.js",
    ],
  });
}

/** Every file of the lake folder with its sha256: the lake's state, byte for byte. */
async function fingerprint(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        files[relative(root, path)] = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
    }
  };
  await walk(root);
  return files;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-faults-"));
  lakeDir = join(dir, "lake");
  const lake = createLake({ lakeDir });
  const first = join(dir, "first.csv");
  await writePriceCsv(first, 20_000, 1);
  const landed = await landLocalFile(lake, { source: "feed", path: first });
  await ingestCsv(lake, landed.record, { dataset: "quotes", columns: parseColumnList(STOCK_COLUMNS) });
  csv = join(dir, "second.csv");
  await writePriceCsv(csv, 20_000, 2);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a read-only lake", () => {
  it("refuses writes and changes nothing; readers keep working", async () => {
    const probe = await readOnly(["lake", "ls", "--json"]);
    if (probe.stderr.includes("unshare failed") || probe.stderr.includes("mount:")) {
      throw new Error(
        `this machine cannot make a private read-only mount (needs CAP_SYS_ADMIN): ${probe.stderr}`,
      );
    }
    const before = await fingerprint(lakeDir);

    const ingest = await readOnly([
      "ingest",
      csv,
      "--source",
      "feed",
      "--dataset",
      "quotes",
      "--columns",
      STOCK_COLUMNS,
    ]);
    report(`ingest into a read-only lake: exit ${ingest.code}, ${ingest.stderr.split("\n")[0]}`);
    // What it must not do is change the lake; the wording and exit code of the refusal are the
    // CLI's error mapping (issue 17, item 8), checked there.
    expect(ingest.code).not.toBe(0);

    const gcApply = await readOnly(["lake", "gc", "--apply", "--grace", "0"]);
    report(`lake gc --apply on a read-only lake: exit ${gcApply.code}`);
    expect(await fingerprint(lakeDir)).toEqual(before);

    // Readers need no write access.
    expect(probe.code, probe.stderr).toBe(0);
    expect(JSON.parse(probe.stdout).datasets).toEqual([
      expect.objectContaining({ zone: "raw", dataset: "quotes" }),
    ]);
    const show = await readOnly(["lake", "show", "raw/quotes", "--verify", "--json"]);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ version: 1, rowCount: 20_000, problems: [] });
    const gc = await readOnly(["lake", "gc", "--json"]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(await fingerprint(lakeDir)).toEqual(before);
    expect((await stat(lakeDir)).isDirectory()).toBe(true);
    report(
      "read-only lake: ingest refused, gc changed nothing, lake ls / show --verify / gc dry-run worked, lake byte-identical",
    );
  });
});
