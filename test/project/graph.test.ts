import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { loadProject, parseJob, selectNodes } from "../../src/project/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { csvSource, writeProject } from "./projectFixture.ts";

const tempDir = useTempDirs();

/** quotes, fx -> staging.quotes, staging.fx -> curated.prices; events -> staging.events (alone). */
const PROJECT = {
  "sources/quotes.ts": csvSource("quotes.csv", "ticker:VARCHAR,close:DECIMAL(18,4)"),
  "sources/fx.ts": csvSource("fx.csv", "ccy:VARCHAR,rate:DOUBLE"),
  "sources/events.ts": `export default { kind: "file", path: "events.ndjson" };\n`,
  "models/staging/quotes.sql": "SELECT * FROM raw.quotes\n",
  "models/staging/fx.sql": "SELECT * FROM raw.fx;\n",
  "models/staging/events.sql": "SELECT * FROM raw.events -- every event\n",
  "models/curated/prices.sql": `-- ---
-- key: ticker
-- ---
SELECT q.ticker, q.close * f.rate AS close
  FROM staging.quotes q, "staging"."fx" f
 WHERE 'raw.nothing' <> q.ticker /* raw.nothing_either */
`,
};

async function project(extra: Record<string, string> = {}) {
  const root = await tempDir();
  await writeProject(root, { ...PROJECT, ...extra });
  return loadProject(root);
}

describe("project graph and selection", () => {
  it("builds the graph from the names the SQL reads, ignoring strings and comments", async () => {
    const { graph } = await project();
    expect(graph.nodes.get("curated.prices")!.upstream.sort()).toEqual(["staging.fx", "staging.quotes"]);
    expect(graph.nodes.get("raw.quotes")!.downstream).toEqual(["staging.quotes"]);
    const order = graph.order;
    expect(order.indexOf("raw.fx")).toBeLessThan(order.indexOf("staging.fx"));
    expect(order.indexOf("staging.fx")).toBeLessThan(order.indexOf("curated.prices"));
  });

  it("selects one node, its upstream with +x, its downstream with x+, a zone, and a source by name", async () => {
    const { graph } = await project();
    expect(selectNodes(graph, ["curated.prices"])).toEqual(["curated.prices"]);
    expect(selectNodes(graph, ["+curated.prices"]).sort()).toEqual(
      ["curated.prices", "raw.fx", "raw.quotes", "staging.fx", "staging.quotes"].sort(),
    );
    expect(selectNodes(graph, ["raw.quotes+"])).toEqual(["raw.quotes", "staging.quotes", "curated.prices"]);
    expect(selectNodes(graph, ["+staging.fx+"]).sort()).toEqual(["curated.prices", "raw.fx", "staging.fx"]);
    expect(selectNodes(graph, ["staging.*"]).sort()).toEqual([
      "staging.events",
      "staging.fx",
      "staging.quotes",
    ]);
    expect(selectNodes(graph, ["events", "staging.fx"]).sort()).toEqual(["raw.events", "staging.fx"]);
    expect(selectNodes(graph, [])).toHaveLength(7);
    expect(() => selectNodes(graph, ["curated.nope"])).toThrow(
      /nothing in the project is named 'curated.nope'/,
    );
    expect(() => selectNodes(graph, ["++x"])).toThrow(/invalid selection/);
  });

  it("refuses a name no source or model provides, with the file and line", async () => {
    const error = await project({
      "models/curated/report.sql": "SELECT *\n  FROM curated.prices\n  JOIN raw.missing USING (ticker)\n",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^models\/curated\/report\.sql:3: unknown dataset 'raw\.missing'/,
    );
  });

  it("refuses a cycle before anything runs, naming each file and line", async () => {
    const error = await project({
      "models/staging/a.sql": "-- reads b\nSELECT * FROM staging.b\n",
      "models/staging/b.sql": "SELECT *\nFROM staging.a\n",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/a cycle of models/);
    expect(message).toContain("models/staging/a.sql:2 (staging.a reads staging.b)");
    expect(message).toContain("models/staging/b.sql:2 (staging.b reads staging.a)");
  });

  it("refuses a model that reads its own output", async () => {
    await expect(project({ "models/staging/self.sql": "SELECT * FROM staging.self" })).rejects.toThrow(
      /models\/staging\/self\.sql:1 \(staging\.self reads staging\.self\)/,
    );
  });

  it("refuses bad model headers and statements with the file and line", async () => {
    await expect(
      project({ "models/staging/x.sql": "-- ---\n-- key: [a]\n-- partition: day\n-- ---\nSELECT 1 AS a\n" }),
    ).rejects.toThrow(/^models\/staging\/x\.sql:3: unknown setting 'partition'/);
    await expect(
      project({ "models/staging/x.sql": "-- ---\n-- order_by: 3\n-- ---\nSELECT 1 AS a\n" }),
    ).rejects.toThrow(/^models\/staging\/x\.sql:2: setting 'order_by'/);
    await expect(project({ "models/staging/x.sql": "-- ---\n-- key: a\nSELECT 1 AS a\n" })).rejects.toThrow(
      /^models\/staging\/x\.sql:3: the settings header is not closed/,
    );
    await expect(project({ "models/staging/x.sql": "SELECT 1 AS a;\nSELECT 2 AS a\n" })).rejects.toThrow(
      /^models\/staging\/x\.sql:1: a model is one SELECT statement/,
    );
    await expect(project({ "models/raw/x.sql": "SELECT 1" })).rejects.toThrow(
      /models write staging or curated/,
    );
    await expect(
      project({ "sources/bad.ts": `export default { kind: "file", path: "x.csv" };\n` }),
    ).rejects.toThrow(/^sources\/bad\.ts: a CSV source needs its columns/);
    await expect(
      project({
        "sources/quotes2.ts": csvSource("q.csv", "ticker:VARCHAR"),
        "sources/q.ts": `export default { kind: "file", path: "q.json", dataset: "quotes2" };\n`,
      }),
    ).rejects.toThrow(/raw\.quotes2 is provided twice/);
  });

  it("parses job names: build, run, run:<selection> and steps separated by ;", () => {
    expect(parseJob("build")).toEqual([{ kind: "build" }]);
    expect(parseJob("run:+curated.prices raw.quotes+;build")).toEqual([
      { kind: "run", selection: ["+curated.prices", "raw.quotes+"] },
      { kind: "build" },
    ]);
    expect(parseJob("pipeline:market")).toEqual([{ kind: "run", selection: [] }]);
    expect(() => parseJob("deploy")).toThrow(/invalid job step 'deploy'/);
  });
});
