import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maybeHead } from "../../src/lake/index.ts";
import { readSnapshot, withDb } from "../../src/pipeline/index.ts";
import { loadProject, runProject } from "../../src/project/index.ts";
import { sampleSourcesDir, startSampleSite, type SampleSite } from "../../src/sources/index.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { projectContext, writeProject } from "./projectFixture.ts";

const tempDir = useTempDirs();

const source = (spec: Record<string, unknown>) => `export default ${JSON.stringify(spec)};\n`;

async function runOne(files: Record<string, string>, id: string) {
  const root = await tempDir();
  await writeProject(root, files);
  const { lake, config } = projectContext(root);
  const summary = await runProject(await loadProject(root), {
    lake,
    config: { ...config, databaseUrl: TEST_DATABASE_URL },
  });
  const step = summary.steps.find((s) => s.id === id)!;
  expect(step, JSON.stringify(summary.steps)).toMatchObject({ status: "committed" });
  const [zone, dataset] = id.split(".") as ["raw", string];
  const manifest = (await maybeHead(lake.storage, zone, dataset))!;
  const rejects = manifest.rejects.key
    ? JSON.parse((await lake.storage.read(manifest.rejects.key)).toString("utf8"))
    : [];
  const snapshot = await readSnapshot(lake, zone, dataset);
  const types = Object.fromEntries(manifest.schema.map((c) => [c.name, c.type]));
  return { rows: snapshot.rows, types, rejects, lake, root, step };
}

const TABLE = `lakebook_project_${process.pid}`;

async function sql(text: string) {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describe("project sources reach raw with exact types and rejects with line numbers", () => {
  let site: SampleSite;
  beforeAll(async () => {
    site = await startSampleSite(sampleSourcesDir(REPO_ROOT));
    await sql(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql(`CREATE TABLE ${TABLE} (id bigint, price numeric(18,4), day date, at timestamptz, note text)`);
    await sql(`INSERT INTO ${TABLE} VALUES (1, 12345678901234.5678, '2024-01-02', '2024-01-02 03:04:05+02', 'a'),
      (2, NULL, NULL, NULL, NULL)`);
  });
  afterAll(async () => {
    await site.close();
    await sql(`DROP TABLE IF EXISTS ${TABLE}`);
  });

  it("JSON array: exact decimals, a reject names the line its record starts on", async () => {
    const json = `[
  {"id": 1, "amount": 123456789012345678.1234, "day": "2024-01-02", "extra": {"a": 1}},
  {"id": 2,
   "amount": "x", "day": "2024-01-03"},
  {"id": 3, "amount": 0.1, "day": null}
]`;
    const { rows, types, rejects } = await runOne(
      {
        "events.json": json,
        "sources/events.ts": source({
          kind: "file",
          path: "events.json",
          columns: "id:BIGINT,amount:DECIMAL(38,4),day?:DATE",
        }),
      },
      "raw.events",
    );
    expect(types).toMatchObject({ id: "BIGINT", amount: "DECIMAL(38,4)", day: "DATE", _line: "BIGINT" });
    expect(rows.map(({ id, amount, day, _line }) => ({ id, amount, day, _line }))).toEqual([
      { id: "1", amount: "123456789012345678.1234", day: "2024-01-02", _line: "2" },
      { id: "3", amount: "0.1000", day: null, _line: "5" },
    ]);
    expect(rejects).toEqual([
      { line: 3, reason: "column 'amount': 'x' is not a valid DECIMAL(38,4)", text: null },
    ]);
  });

  it("NDJSON: a line that is not JSON or not an object is rejected with its number, the rest is kept", async () => {
    const ndjson = '{"id": 1, "v": 1.5}\n\n{"id": 2, "v": \n[1, 2]\n{"id": 4, "v": 2}\n';
    const { rows, types, rejects } = await runOne(
      {
        "v.ndjson": ndjson,
        "sources/v.ts": source({ kind: "file", path: "v.ndjson", columns: "id:BIGINT,v:DOUBLE" }),
      },
      "raw.v",
    );
    expect(types).toMatchObject({ id: "BIGINT", v: "DOUBLE" });
    expect(rows.map((r) => [r.id, r.v, r._line])).toEqual([
      ["1", 1.5, "1"],
      ["4", 2, "5"],
    ]);
    expect(rejects.map((r: { line: number; reason: string }) => [r.line, r.reason])).toEqual([
      [3, expect.stringMatching(/^invalid JSON/)],
      [4, "expected a JSON object, found an array"],
    ]);
  });

  it("NDJSON without declared columns keeps every field as text", async () => {
    const { types, rows } = await runOne(
      {
        "t.jsonl": '{"a": 1, "b": "x"}\n{"b": "y", "c": true}\n',
        "sources/t.ts": source({ kind: "file", path: "t.jsonl" }),
      },
      "raw.t",
    );
    expect(types).toMatchObject({ a: "VARCHAR", b: "VARCHAR", c: "VARCHAR" });
    expect(rows.map(({ a, b, c }) => ({ a, b, c }))).toEqual([
      { a: "1", b: "x", c: null },
      { a: null, b: "y", c: "true" },
    ]);
  });

  it("Parquet keeps the file's exact types", async () => {
    const root = await tempDir();
    const path = join(root, "p.parquet");
    await withDb((db) =>
      db.run(`COPY (SELECT 7::BIGINT AS id, 1.2345::DECIMAL(18,4) AS price, DATE '2024-02-29' AS day,
        TIMESTAMPTZ '2024-01-02 03:04:05+00' AS at) TO '${path}' (FORMAT parquet)`),
    );
    const { types, rows } = await runOne(
      {
        "p.parquet": (await readFile(path)).toString("binary"),
        "sources/p.ts": source({ kind: "file", path }),
      },
      "raw.p",
    );
    expect(types).toMatchObject({
      id: "BIGINT",
      price: "DECIMAL(18,4)",
      day: "DATE",
      at: "TIMESTAMP WITH TIME ZONE",
    });
    expect(rows[0]).toMatchObject({ id: "7", price: "1.2345", day: "2024-02-29", _line: "1" });
  });

  it("PostgreSQL: the query's result reaches raw with exact types", async () => {
    const { types, rows } = await runOne(
      { "sources/pg.ts": source({ kind: "postgres", query: `SELECT * FROM ${TABLE} ORDER BY id` }) },
      "raw.pg",
    );
    expect(types).toMatchObject({
      id: "BIGINT",
      price: "DECIMAL(18,4)",
      day: "DATE",
      at: "TIMESTAMP WITH TIME ZONE",
      note: "VARCHAR",
    });
    expect(rows.map(({ id, price, day, note }) => ({ id, price, day, note }))).toEqual([
      { id: "1", price: "12345678901234.5678", day: "2024-01-02", note: "a" },
      { id: "2", price: null, day: null, note: null },
    ]);
  });

  it("JSON API: every page's records, typed; an unchanged API commits nothing", async () => {
    const files = {
      "sources/readings.ts": source({
        kind: "api",
        url: `${site.origin}/api/readings`,
        itemsPath: "data",
        pagination: { kind: "cursor", param: "cursor", nextCursorPath: "next_cursor" },
        columns: "station:VARCHAR,date:DATE,level_m:DECIMAL(8,2)",
      }),
    };
    const { rows, types, lake, root } = await runOne(files, "raw.readings");
    const expected = JSON.parse(
      await readFile(join(REPO_ROOT, "data/samples/sources/readings.json"), "utf8"),
    );
    expect(types).toMatchObject({ station: "VARCHAR", date: "DATE", level_m: "DECIMAL(8,2)" });
    expect(rows).toHaveLength(expected.length);
    expect(rows[0]).toMatchObject({ station: "LB-001", date: "2024-06-01", level_m: "372.04" });
    const again = await runProject(await loadProject(root), { lake, config: projectContext(root).config });
    expect(again.steps[0]!.status).toBe("unchanged");
  });

  it("HTML: the table's rows, decoded from the page's charset", async () => {
    const { rows, types } = await runOne(
      {
        "sources/stations.ts": source({
          kind: "html",
          url: `${site.origin}/stations.html`,
          extract: { table: "#stations" },
          columns: "code:VARCHAR,lake:VARCHAR,town:VARCHAR,mean_level_m:DECIMAL(8,2)",
        }),
      },
      "raw.stations",
    );
    expect(types.mean_level_m).toBe("DECIMAL(8,2)");
    expect(rows[0]).toMatchObject({
      code: "LB-001",
      lake: "Lac Léman",
      town: "Genève",
      mean_level_m: "372.05",
      _line: "1",
    });
  });

  it("browser: the rendered table's rows, as landed, reach raw typed", async () => {
    const { rows, types } = await runOne(
      {
        "sources/latest.ts": source({
          kind: "browser",
          urls: [`${site.origin}/live.html`],
          extract: { table: "#latest", jsonUrlIncludes: "/api/readings" },
          columns: "station:VARCHAR,date:DATE,level_m:DECIMAL(8,2)",
        }),
      },
      "raw.latest",
    );
    expect(types).toMatchObject({ station: "VARCHAR", date: "DATE", level_m: "DECIMAL(8,2)" });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ station: "LB-001", date: "2024-06-01", level_m: "372.04", _line: "1" });
  });
});
