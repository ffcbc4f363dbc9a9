/**
 * A dataset's catalog entry page (`/catalog/<zone>/<dataset>`) on a real server, lake, DuckDB and
 * PostgreSQL store: schema, rows, quality result, lineage, model SQL and versions in the site's
 * look; access checked like the dataset; a link that opens the Explorer on that version; and the
 * page stamp of a published page linking there.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { normalizeConfig } from "../../src/config.ts";
import { createLake } from "../../src/lake/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { parseSuite, validateVersion } from "../../src/quality/index.ts";
import { commitRows } from "../quality/fixtures.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { BUILD_1, page } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

let dir: string;
let db: TestStore;
let server: RunningServer;
let finn: Session;
let vera: Session;
let ana: Session;

const PRICES = (close: number) => `
  SELECT ['AAA', 'BBB'][i % 2 + 1] AS ticker, CAST(DATE '2024-01-01' + CAST(i AS INTEGER) AS DATE) AS date,
    CAST(${close} + i AS DECIMAL(18,4)) AS close
  FROM range(0, 10) t(i)`;

const MODEL = `-- ---
-- description: Closes <for> the report
-- owner: markets
-- ---
SELECT ticker, date, close FROM staging.prices
`;

const SUITE = `zone: curated
dataset: prices
expectations:
  - id: close_positive
    type: between
    column: close
    min: 0
  - id: few_rows
    type: row_count_between
    max: 5
    severity: warn
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-catalog-entry-"));
  const config = normalizeConfig({ root: dir, lakeDir: "lake", siteDir: "site", port: 0 });
  const lake = createLake(config);
  await commitRows(lake, "curated", "prices", PRICES(10));
  await commitRows(lake, "curated", "prices", PRICES(100));
  await validateVersion(lake, parseSuite(SUITE, "quality/curated.prices.yaml"));
  await commitRows(lake, "curated", "sales", "SELECT 'secret' AS customer, 42 AS amount");
  await commitRows(lake, "staging", "quotes", "SELECT 1 AS id");
  await mkdir(join(dir, "models/curated"), { recursive: true });
  await writeFile(join(dir, "models/curated/prices.sql"), MODEL);
  // A published page, to follow its stamp.
  await mkdir(join(dir, "site/builds", BUILD_1), { recursive: true });
  await writeFile(join(dir, "site/builds", BUILD_1, "index.html"), page("Home"));
  await symlink(`builds/${BUILD_1}`, join(dir, "site/current"));
  db = await openTestStore();
  await db.store.setAccessRule({ path: "/lake/curated/sales/", groups: ["finance"] });
  await db.store.startBuild({ id: BUILD_1, startedAt: new Date("2026-01-01T00:00:00Z") });
  await db.store.finishBuild(BUILD_1, {
    status: "succeeded",
    finishedAt: new Date("2026-01-01T00:00:05Z"),
    durationMs: 5000,
    dataVersions: { prices: 2 },
    error: null,
  });
  await addUser(db.store, "finn", "viewer", ["finance"]);
  await addUser(db.store, "vera", "viewer");
  await addUser(db.store, "ana", "analyst");
  server = await startServer(config, { logger: silentLogger, store: db.store, schedules: false });
  [finn, vera, ana] = await Promise.all([
    login(server.url, "finn"),
    login(server.url, "vera"),
    login(server.url, "ana"),
  ]);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function entry(path: string, session?: Session) {
  const response = await fetch(`${server.url}${path}`, { ...as(session), redirect: "manual" });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe("a dataset's catalog entry", () => {
  it("shows schema, rows, quality, model SQL and versions in the site's look, and opens the Explorer", async () => {
    const { status, body, headers } = await entry("/catalog/curated/prices", vera);
    expect(status).toBe(200);
    expect(headers.get("content-security-policy")).toContain("script-src 'none'");
    expect(body).toContain('<link rel="stylesheet" href="/auth/site.css">');
    expect(body).toContain("<h1><code>curated/prices</code> v2</h1>");
    expect(body).toContain("current version");
    expect(body).toContain('<span data-testid="entry-rows">10</span> rows');
    expect(body).toMatch(/<td><code>ticker<\/code><\/td><td>VARCHAR<\/td>/);
    expect(body).toMatch(/<td><code>close<\/code><\/td><td>DECIMAL\(18,4\)<\/td>/);
    // The quality result of this version: the suite's status, each expectation's outcome.
    expect(body).toMatch(
      /data-testid="entry-quality"><strong>warn<\/strong> · validated .* by <code>quality\/curated\.prices\.yaml<\/code>/,
    );
    expect(body).toContain("<code>few_rows</code>");
    // The model as written, escaped, with its description and owner.
    expect(body).toContain("Closes &#60;for&#62; the report");
    expect(body).toContain("owner markets");
    expect(body).toContain("SELECT ticker, date, close FROM staging.prices");
    // Every version, the shown one marked, older ones linked.
    expect(body).toContain('<a href="/catalog/curated/prices?version=1">v1</a>');
    // The Explorer link carries the share-link fragment: the query and the pinned version.
    const explorer = /data-testid="open-explorer" href="([^"]+)"/.exec(body)?.[1]?.replaceAll("&#38;", "&");
    expect(explorer).toBeDefined();
    const fragment = new URLSearchParams(new URL(explorer!, server.url).hash.slice(1));
    expect(new URL(explorer!, server.url).pathname).toBe("/explorer");
    expect(fragment.get("q")).toBe("SELECT * FROM curated.prices LIMIT 100");
    expect(fragment.get("v")).toBe("curated.prices@2");
  });

  it("shows an older version with a link back to the current one, and 404s unknown versions", async () => {
    const older = await entry("/catalog/curated/prices?version=1", vera);
    expect(older.status).toBe(200);
    expect(older.body).toContain("<h1><code>curated/prices</code> v1</h1>");
    expect(older.body).toContain('an older version (current: <a href="/catalog/curated/prices">v2</a>)');
    expect(older.body).toContain("unchecked: no quality suite validated this version");
    expect(older.body).toContain("curated.prices%401");
    const missing = await entry("/catalog/curated/prices?version=9", vera);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("curated/prices has no version 9: its versions are 1 to 2");
    expect((await entry("/catalog/curated/nothing", vera)).status).toBe(404);
    expect((await entry("/catalog/raw/prices", ana)).status).toBe(404);
  });

  it("is checked like the dataset: its group for a restricted one, analysts for staging, sign-in first", async () => {
    expect((await entry("/catalog/curated/sales", finn)).status).toBe(200);
    const refused = await entry("/catalog/curated/sales", vera);
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain("secret");
    expect((await entry("/catalog/staging/quotes", ana)).status).toBe(200);
    expect((await entry("/catalog/staging/quotes", vera)).status).toBe(403);
    const anonymous = await entry("/catalog/curated/prices");
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/auth/login?next=%2Fcatalog%2Fcurated%2Fprices");
  });

  it("is where a published page's stamp links each dataset version", async () => {
    const home = await entry("/", vera);
    expect(home.status).toBe(200);
    const href = /data: <a href="([^"]+)"[^>]*>prices v2<\/a>/.exec(home.body)?.[1];
    expect(href).toBe("/catalog/curated/prices?version=2");
    expect((await entry(href!, vera)).body).toContain("<h1><code>curated/prices</code> v2</h1>");
  });
});
