/**
 * `npm run bench:explorer [-- --size 1GB | --rows N] [--rounds N] [--layout]`: the explorer on a
 * big curated Parquet file,
 * Chromium driving the real offline build on the real server, against DuckDB in Node on the same
 * file in the same run. Prints every figure of the explorer's goals:
 *
 *   selective_bytes_pct, selective_ms    a selective query (WHERE ticker = ...) in the explorer
 *   aggregate_ms, duckdb_node_ms, aggregate_ratio   a whole-table GROUP BY (auto: browser or server)
 *   report_first_chart_ms, report_js_bytes          "/" cold: first chart, JS transferred
 *   explorer_first_result_ms, explorer_cold_bytes, explorer_warm_bytes   "/explorer" cold and warm
 *   *_data_before_modules   the page's data was requested before Framework's runtime had arrived
 * and then one `goal.<figure>=<value> limit=<limit> ratio=<value/limit>` line per goal of the issue.
 *
 * The file (default --size 1GB, ~165M rows, sorted by ticker and date) is written in the curated
 * layout (the lake's Parquet compression and row group size: src/pipeline/parquetFile.ts) with
 * DuckDB in Node once and cached under /tmp/lakebook-bench-explorer/<rows>/; the site is built on
 * every run (it measures the current code). `--layout` instead compares row group sizes and
 * compressions on that data (explorerLayout.ts). Not a pass/fail test.
 */
import { existsSync } from "node:fs";
import { link, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { normalizeConfig, type Config } from "../src/config.ts";
import { commitVersion, createLake, maybeHead, newWriteId, sha256OfFile } from "../src/lake/index.ts";
import { silentLogger } from "../src/logger.ts";
import { DEFAULT_ROW_GROUP_SIZE, PARQUET_COMPRESSION, withDb } from "../src/pipeline/index.ts";
import { buildSite } from "../src/site/index.ts";
import { launchChromium } from "../src/sources/index.ts";
import { startServer } from "../server/index.ts";
import { REPO_ROOT } from "../test/helpers/cli.ts";
import { runMarketPipeline } from "../test/helpers/market.ts";
import { measureLayouts } from "./explorerLayout.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** Bytes per row of the generated data in the curated layout (measured: 6.95 MB for 1,075,463 rows). */
const BYTES_PER_ROW = 6.5;

/** `--size 1GB` / `512MB` -> rows; `--rows N` wins. */
function rowsFromArgs(): number {
  const i = process.argv.indexOf("--size");
  const size = i === -1 ? "1GB" : String(process.argv[i + 1]);
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)$/i.exec(size);
  if (!match) throw new Error(`--size ${size}: write a size such as 1GB, 200MB or 500KB`);
  const unit = { KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 }[match[2]!.toUpperCase() as "KB" | "MB" | "GB"];
  return Math.max(TICKERS, Math.round((Number(match[1]) * unit) / BYTES_PER_ROW));
}

const TICKERS = 500;
const ROWS = process.argv.includes("--rows") ? arg("rows", 0) : rowsFromArgs();
const ROUNDS = Math.max(1, arg("rounds", 1));
const CACHE = join("/tmp/lakebook-bench-explorer", `${ROWS}-rg${DEFAULT_ROW_GROUP_SIZE}`);
const DATASET = "trades";

/** Rows already in ticker, date order: no sort needed to write a sorted file. */
function generatorSql(rows: number): string {
  const perTicker = Math.ceil(rows / TICKERS);
  return `SELECT
      'T' || lpad(CAST(i // ${perTicker} AS VARCHAR), 4, '0') AS ticker,
      CAST(DATE '1990-01-01' + CAST((i % ${perTicker}) // 64 AS INTEGER) AS DATE) AS date,
      CAST(i AS BIGINT) AS trade_id,
      CAST(10 + (hash(i) % 100000) / 100.0 AS DECIMAL(18,4)) AS price,
      CAST(hash(i * 7) % 10000 AS BIGINT) AS quantity,
      ['XNYS', 'XNAS', 'BATS', 'ARCX'][1 + CAST(hash(i * 13) % 4 AS INTEGER)] AS venue
    FROM range(${rows}) t(i)`;
}

async function bigFile(): Promise<string> {
  const path = join(CACHE, "trades.parquet");
  if (existsSync(path)) return path;
  await mkdir(CACHE, { recursive: true });
  const partial = `${path}.partial`;
  console.log(`generating ${ROWS.toLocaleString("en-US")} rows into ${path} (cached for later runs)`);
  await withDb(
    (db) =>
      db.run(
        `COPY (${generatorSql(ROWS)}) TO '${partial}' (FORMAT parquet, ${PARQUET_COMPRESSION}, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_SIZE})`,
      ),
    { threads: 2, memoryLimit: "1GB", tempDirectory: CACHE },
  );
  await rename(partial, path);
  return path;
}

/** The big file as the current version of curated/trades in the bench's lake (once per cache). */
async function commitBig(config: Config, path: string, dataset = DATASET): Promise<string> {
  const lake = createLake(config);
  const head = await maybeHead(lake.storage, "curated", dataset);
  if (head) return lake.storage.localPath(head.files[0]!.key);
  const writeId = newWriteId();
  const key = `curated/${dataset}/data/${writeId}/part-0.parquet`;
  // The bench's lake is on the local filesystem: the cached file is hard-linked in, not copied.
  const target = join(config.lakeDir, key);
  await mkdir(join(target, ".."), { recursive: true });
  await link(path, target);
  const schema = await withDb((db) => db.columns(`(SELECT * FROM read_parquet('${path}'))`));
  const size = (await stat(path)).size;
  const [count] = await withDb((db) => db.all(`SELECT count(*) AS n FROM read_parquet('${path}')`));
  const rows = Number(count?.n ?? ROWS);
  await commitVersion(
    lake.storage,
    "curated",
    {
      zone: "curated",
      dataset,
      writeId,
      schema,
      rowCount: rows,
      bytes: size,
      files: [{ key, size, sha256: await sha256OfFile(path), rows }],
      rejects: { count: 0, key: null },
      lineage: { inputs: [], landing: [] },
      sourceRun: null,
      quality: null,
    },
    { expectedParent: null },
  );
  return target;
}

interface Seen {
  url: string;
  type: string;
  size: number;
  /** When the request started and when its response ended (ms since the epoch). */
  start: number;
  end: number;
}

interface Tracked {
  page: Page;
  bytes(filter?: (url: string, type: string) => boolean): number;
  /** Whether the first request matching `data` started before Framework's runtime had arrived. */
  startedBeforeScripts(data: (url: string) => boolean): boolean | "not requested";
  reset(): void;
}

async function track(
  browser: Browser,
  context?: Awaited<ReturnType<Browser["newContext"]>>,
): Promise<Tracked> {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1280, height: 900 } }));
  const page = await ctx.newPage();
  let seen: Seen[] = [];
  page.on("requestfinished", async (request) => {
    const sizes = await request.sizes().catch(() => undefined);
    const response = await request.response().catch(() => null);
    const type = response?.headers()["content-type"] ?? "";
    const timing = request.timing();
    seen.push({
      url: request.url(),
      type,
      size: sizes ? sizes.responseBodySize + sizes.responseHeadersSize : 0,
      start: timing.startTime,
      end: timing.startTime + Math.max(0, timing.responseEnd),
    });
  });
  return {
    page,
    bytes: (filter = () => true) => seen.filter((s) => filter(s.url, s.type)).reduce((n, s) => n + s.size, 0),
    startedBeforeScripts(data) {
      const request = seen.filter((s) => data(s.url)).sort((a, b) => a.start - b.start)[0];
      if (!request) return "not requested";
      // Framework's runtime entry: no cell runs before it has arrived, so without a preload no
      // data request can start before its end.
      const client = seen.find((s) => /\/_observablehq\/client\.[\w-]*\.?js/.test(s.url));
      return client !== undefined && request.start < client.end;
    },
    reset: () => (seen = []),
  };
}

async function runInExplorer(
  page: Page,
  sql: string,
  where: "auto" | "local" | "server" = "auto",
): Promise<{ ms: number; where: string; status: string }> {
  const status = page.locator("[data-testid=status]");
  await page.locator("[data-testid=where]").selectOption(where);
  await page.locator("[data-testid=sql]").fill(sql);
  const started = Date.now();
  await page.locator("[data-testid=sql]").press("Control+Enter");
  await page.waitForFunction(
    () => {
      const s = document.querySelector("[data-testid=status]") as HTMLElement | null;
      const e = document.querySelector("[data-testid=error]") as HTMLElement | null;
      return (s?.dataset.rows !== undefined && s.textContent !== "Running…") || (e && !e.hidden);
    },
    undefined,
    { timeout: 600_000, polling: 50 },
  );
  const ms = Date.now() - started;
  const error = page.locator("[data-testid=error]");
  if (await error.isVisible()) throw new Error(`explorer query failed: ${await error.innerText()}`);
  return { ms, where: (await status.getAttribute("data-where")) ?? "?", status: await status.innerText() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const print = (name: string, value: number | string) => console.log(`${name}=${value}`);

const file = await bigFile();
const fileBytes = (await stat(file)).size;
const config = normalizeConfig({
  root: REPO_ROOT,
  lakeDir: join(CACHE, "lake"),
  siteDir: join(CACHE, "site"),
  port: 0,
});
await rm(config.siteDir, { recursive: true, force: true });
const lakeFile = await commitBig(config, file);
// The report pages' data (curated.prices and the rest), as `lakebook demo` makes it.
if (!(await maybeHead(createLake(config).storage, "curated", "prices"))) {
  console.log("running the market pipeline into the bench's lake (the report pages' data)");
  await runMarketPipeline(createLake(config));
}
console.log(`building the site into ${config.siteDir}`);
await buildSite(config);
const server = await startServer(config, { logger: silentLogger });
const browser = await launchChromium();
const ticker = `T${String(Math.floor(TICKERS / 3)).padStart(4, "0")}`;
const selectiveSql = (dataset: string) =>
  `SELECT count(*) AS n, sum(quantity) AS q FROM curated.${dataset} WHERE ticker = '${ticker}'`;
const aggregateSql = (dataset: string) =>
  `SELECT venue, count(*) AS n, avg(price) AS avg_price, sum(quantity) AS q FROM curated.${dataset} GROUP BY venue ORDER BY venue`;
const SELECTIVE = selectiveSql(DATASET);
const AGGREGATE = aggregateSql(DATASET);
try {
  console.log(`file: ${ROWS.toLocaleString("en-US")} rows, ${(fileBytes / 2 ** 20).toFixed(1)} MiB`);
  if (process.argv.includes("--layout")) {
    const explorer = await track(browser);
    await explorer.page.goto(`${server.url}/explorer`);
    await explorer.page.locator("[data-testid=status][data-rows]").waitFor({ timeout: 300_000 });
    await measureLayouts({
      baseFile: file,
      cacheDir: CACHE,
      rounds: ROUNDS,
      commit: (path, dataset) => commitBig(config, path, dataset),
      runInBrowser: async (sql, where) => {
        explorer.reset();
        const { ms } = await runInExplorer(explorer.page, sql, where);
        return { ms, lakeBytes: explorer.bytes((url) => url.includes("/lake/")) };
      },
      reloadExplorer: async () => {
        await explorer.page.reload();
        await explorer.page.locator("[data-testid=status][data-rows]").waitFor({ timeout: 300_000 });
      },
      selectiveSql,
      aggregateSql,
    });
  } else {
    await measureGoals();
  }
} finally {
  await browser.close();
  await server.close();
}

async function measureGoals(): Promise<void> {
  const node: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = Date.now();
    await withDb((db) => db.all(AGGREGATE.replace(`curated.${DATASET}`, `read_parquet('${lakeFile}')`)), {
      threads: 2,
    });
    node.push(Date.now() - started);
  }

  // Report page, cold.
  const report = await track(browser);
  const reportStart = Date.now();
  await report.page.goto(`${server.url}/`);
  await report.page.locator("[data-testid=price-chart] svg").first().waitFor({ timeout: 120_000 });
  const reportFirstChart = Date.now() - reportStart;
  await report.page.waitForLoadState("networkidle");
  const reportJs = report.bytes((url, type) => type.includes("javascript") || url.endsWith(".js"));
  const reportPreload = report.startedBeforeScripts((url) => url.includes("/_file/data/"));

  // Explorer, cold then warm (same browser context: its HTTP cache).
  const explorer = await track(browser);
  const explorerStart = Date.now();
  await explorer.page.goto(`${server.url}/explorer`);
  await explorer.page.locator("[data-testid=status][data-rows]").waitFor({ timeout: 300_000 });
  const firstResult = Date.now() - explorerStart;
  await explorer.page.waitForLoadState("networkidle");
  const coldBytes = explorer.bytes();
  const explorerPreload = explorer.startedBeforeScripts((url) => url.endsWith("/api/explorer/datasets"));

  const selective: number[] = [];
  const aggregate: number[] = [];
  let selectiveBytes = 0;
  let aggregateWhere = "?";
  let aggregateBytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    explorer.reset();
    selective.push((await runInExplorer(explorer.page, `${SELECTIVE} -- round ${r}`)).ms);
    selectiveBytes = explorer.bytes((url) => url.includes("/lake/"));
    explorer.reset();
    const result = await runInExplorer(explorer.page, `${AGGREGATE} -- round ${r}`);
    aggregate.push(result.ms);
    aggregateWhere = result.where;
    aggregateBytes = explorer.bytes();
  }

  const warm = await track(browser, explorer.page.context());
  await warm.page.goto(`${server.url}/explorer`);
  await warm.page.locator("[data-testid=status][data-rows]").waitFor({ timeout: 300_000 });
  await warm.page.waitForLoadState("networkidle");
  const warmBytes = warm.bytes();

  const selectivePct = (100 * selectiveBytes) / fileBytes;
  const aggregateRatio = median(aggregate) / median(node);
  print("file_bytes", fileBytes);
  print("file_rows", ROWS);
  print("selective_ms", median(selective));
  print("selective_bytes", selectiveBytes);
  print("selective_bytes_pct", selectivePct.toFixed(3));
  print("aggregate_ms", median(aggregate));
  print("aggregate_ran_on", aggregateWhere);
  print("aggregate_bytes_transferred", aggregateBytes);
  print("duckdb_node_ms", median(node));
  print("report_first_chart_ms", reportFirstChart);
  print("report_js_bytes", reportJs);
  print("report_data_before_modules", String(reportPreload));
  print("explorer_first_result_ms", firstResult);
  print("explorer_cold_bytes", coldBytes);
  print("explorer_warm_bytes", warmBytes);
  print("explorer_data_before_modules", String(explorerPreload));
  print("aggregate_ratio", aggregateRatio.toFixed(2));
  // The goals: value, limit, and the value as a share of the limit (<= 1 meets it).
  const goal = (name: string, value: number, limit: number, unit: string) =>
    console.log(
      `goal.${name}=${value.toFixed(unit === "%" ? 3 : 0)}${unit} limit=${limit}${unit} ratio=${(value / limit).toFixed(2)} ${value <= limit ? "met" : "MISSED"}`,
    );
  goal("selective_bytes_pct", selectivePct, 1, "%");
  goal("selective_ms", median(selective), 1000, "ms");
  console.log(
    `goal.aggregate_ratio=${aggregateRatio.toFixed(2)} limit=2 ratio=${(aggregateRatio / 2).toFixed(2)} ${aggregateRatio <= 2 ? "met" : "MISSED"}`,
  );
  goal("report_first_chart_ms", reportFirstChart, 1000, "ms");
  goal("report_js_bytes", reportJs, 300 * 1024, "B");
  goal("explorer_first_result_ms", firstResult, 2500, "ms");
  goal("explorer_cold_bytes", coldBytes, 6 * 1024 * 1024, "B");
  goal("explorer_warm_bytes", warmBytes, 300 * 1024, "B");
}
