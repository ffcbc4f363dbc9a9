import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runMarketPipeline } from "../helpers/market.ts";
import {
  archiveVersions,
  buildCatalog,
  createLake,
  describeDataset,
  landBytes,
} from "../../src/lake/index.ts";
import { ingestCsv, promote } from "../../src/pipeline/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();
const LOADER = fileURLToPath(new URL("../../loaders/lake-catalog.json.ts", import.meta.url));

describe("catalog", () => {
  it("traces a curated version back to its landing files and source runs", async () => {
    const lake = createLake({ lakeDir: join(await tempDir(), "lake") });
    const { record } = await landBytes(lake.storage, {
      source: "shop",
      origin: "https://shop.example/orders.csv",
      data: Buffer.from("id,amount\n1,9.99\n2,5.00\n"),
      extension: "csv",
      contentType: "text/csv",
      now: new Date("2026-03-01T10:00:00Z"),
    });
    await ingestCsv(
      lake,
      record,
      {
        dataset: "orders",
        columns: [
          { name: "id", type: "BIGINT" },
          { name: "amount", type: "DECIMAL(12,2)" },
        ],
      },
      { sourceRun: "run-42" },
    );
    const staging = { zone: "staging" as const, dataset: "orders" };
    await promote(lake, {
      inputs: { orders: { zone: "raw", dataset: "orders" } },
      output: staging,
      sql: "SELECT id, amount FROM orders",
    });
    await promote(lake, {
      inputs: { orders: staging },
      output: { zone: "curated", dataset: "order_totals" },
      sql: "SELECT sum(amount) AS total FROM orders",
    });
    const entry = await describeDataset(lake.storage, "curated", "order_totals");
    expect(entry).toMatchObject({
      head: 1,
      rowCount: 1,
      schema: [{ name: "total", type: "DECIMAL(38,2)" }],
      lineage: {
        upstream: [
          { zone: "staging", dataset: "orders", version: 1 },
          { zone: "raw", dataset: "orders", version: 1 },
        ],
        landing: [
          {
            source: "shop",
            sha256: record.sha256,
            origin: "https://shop.example/orders.csv",
            fetchedAt: "2026-03-01T10:00:00.000Z",
            bytes: 24,
          },
        ],
        sourceRuns: ["run-42"],
      },
    });
  });

  it("lists archived versions beside live ones", async () => {
    const dir = await tempDir();
    const lake = createLake({ lakeDir: join(dir, "lake") });
    await runMarketPipeline(lake, { now: new Date("2026-01-01T00:00:00Z") });
    const csv = join(dir, "correction.csv");
    await writeFile(csv, "symbol,date,price\nMSFT,Jan 1 2000,40.00\n");
    await runMarketPipeline(lake, { stocksPath: csv, now: new Date("2026-01-02T00:00:00Z") });
    await archiveVersions(lake, "curated", "prices", {
      policy: { olderThanMs: 0 },
      apply: true,
      now: () => new Date(Date.now() + 1000),
    });
    const curated = (await buildCatalog(lake.storage)).find(
      (d) => d.zone === "curated" && d.dataset === "prices",
    );
    expect(curated?.versions.map((v) => [v.version, v.status])).toEqual([
      [1, "archived"],
      [2, "live"],
    ]);
  });

  it("is what the Catalog page's loader emits", async () => {
    const lakeDir = join(await tempDir(), "lake");
    await runMarketPipeline(createLake({ lakeDir }));
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", "tsx", LOADER],
        { env: { ...process.env, LAKEBOOK_LAKE_DIR: lakeDir, LAKEBOOK_S3_ENDPOINT: "" } },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    const { datasets } = JSON.parse(stdout);
    expect(
      datasets.map(
        (d: { zone: string; dataset: string; head: number }) => `${d.zone}/${d.dataset}@${d.head}`,
      ),
    ).toEqual(["raw/vega_sp500@1", "raw/vega_stocks@1", "staging/prices@1", "curated/prices@1"]);
    expect(datasets[3].lineage.landing).toHaveLength(2);
  });
});
