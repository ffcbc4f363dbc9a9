import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLake, maybeHead } from "../../src/lake/index.ts";
import { readSnapshot } from "../../src/pipeline/index.ts";
import { runLakebook } from "../helpers/cli.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { csvSource, writeProject } from "../project/projectFixture.ts";

const tempDir = useTempDirs();

const MODEL = `-- ---
-- key: id
-- latest_by: close
-- order_by: [id]
-- partition_by: [ticker]
-- incremental: true
-- ---
SELECT id, ticker, close FROM raw.quotes
`;

describe("lakebook compact", () => {
  it("an incremental, partitioned model merges a changed source file; compact keeps its rows", async () => {
    const root = await tempDir();
    await writeProject(root, {
      "package.json": JSON.stringify({ name: "compact-test", private: true, type: "module" }),
      "q.csv": "id,ticker,close\n1,AAA,1.5\n2,BBB,2\n",
      "sources/quotes.ts": csvSource("q.csv", "id:BIGINT,ticker:VARCHAR,close:DECIMAL(18,4)"),
      "models/curated/quotes.sql": MODEL,
    });
    const env = { ...process.env, LAKEBOOK_ROOT: root, LAKEBOOK_LAKE_DIR: join(root, "data/lake") };
    const lake = createLake({ lakeDir: join(root, "data/lake") });
    expect((await runLakebook(["run"], { env })).code).toBe(0);
    // The source file changes: key 1 gets a greater close, key 3 is new.
    await writeFile(join(root, "q.csv"), "id,ticker,close\n1,AAA,9\n2,BBB,2\n3,AAA,3\n");
    const second = await runLakebook(["run"], { env });
    expect(second.code, second.stderr).toBe(0);
    const merged = (await maybeHead(lake.storage, "curated", "quotes"))!;
    expect(merged.version).toBe(2);
    expect(merged.files.map((f) => f.partition)).toEqual(
      expect.arrayContaining([{ ticker: "AAA" }, { ticker: "BBB" }]),
    );
    const rows = async () =>
      (await readSnapshot(lake, "curated", "quotes")).rows.sort((a, b) => Number(a.id) - Number(b.id));
    const expected = [
      { id: "1", ticker: "AAA", close: "9.0000" },
      { id: "2", ticker: "BBB", close: "2.0000" },
      { id: "3", ticker: "AAA", close: "3.0000" },
    ];
    expect(await rows()).toEqual(expected);

    const compacted = await runLakebook(["compact", "curated.quotes", "--json"], { env });
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(JSON.parse(compacted.stdout)).toMatchObject({
      version: 3,
      created: true,
      filesAfter: 2,
      rowCount: 3,
    });
    expect(await rows()).toEqual(expected);
    const again = await runLakebook(["compact", "curated.quotes"], { env });
    expect(again.stdout).toMatch(/curated\/quotes v3 is already compact/);
    const bad = await runLakebook(["compact", "quotes"], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid dataset 'quotes': write <zone>\.<dataset>/);
  });
});
