/**
 * A small Observable Framework project of the kind a new user brings (no Lakebook layout), written
 * into a temp dir: `observablehq.config.js`, pages under `src/` using every built-in library and
 * `FileAttachment` format, a TypeScript and a shell data loader, a `dynamicPaths` page, and one
 * page per built-in theme. Every check a page makes ends in an element `#<name>` whose text the
 * browser test compares; `EXPECTED` lists them per page. Data files are generated with the same
 * libraries in Node, so each format is a real file of its kind.
 */
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import ExcelJS from "exceljs";
import JSZip from "jszip";
import { REPO_ROOT } from "../helpers/cli.ts";

/** Framework 1.13's built-in themes (dist/theme.js), each rendered by one page. */
export const THEMES = [
  "air",
  "alt",
  "coffee",
  "cotton",
  "dark",
  "dashboard",
  "deep-space",
  "glacier",
  "ink",
  "light",
  "midnight",
  "near-midnight",
  "ocean-floor",
  "parchment",
  "slate",
  "stark",
  "sun-faded",
  "wide",
];

/** Page path -> element id -> expected text. */
export const EXPECTED: Record<string, Record<string, string>> = {
  "/": { typed: "number:42", untyped: "string", tsv: "2:number", autotype: "number", plot: "svg" },
  "/formats": {
    json: "fixture",
    text: "from a shell loader",
    blob: "4",
    image: "1",
    arrow: "3:6",
    parquet: "3:60",
    sqlite: "2",
    xlsx: "2:7",
    zip: "zipped",
  },
  "/libraries": {
    topojson: "1",
    vegalite: "true",
    mermaid: "true",
    tex: "true",
    dot: "svg",
    leaflet: "number",
    inputs: "form",
    htl: "SPAN",
  },
  // Framework's own DuckDB (sql front matter and DuckDBClient) reading Parquet and CSV offline.
  "/sql": { "sql-front-matter": "3:60", duckdbclient: "42" },
  "/items/alpha": { item: "alpha" },
  ...Object.fromEntries(THEMES.map((theme) => [`/themes/${theme}`, { theme }])),
};

const CONFIG = `export default {
  title: "Fixture",
  root: "src",
  theme: "cotton",
  dynamicPaths: ["/items/alpha"],
};
`;

const INDEX = `# Home

\`\`\`js
import * as d3x from "npm:d3";
const typed = FileAttachment("data/sales.csv").csv({typed: true});
const untyped = FileAttachment("data/sales.csv").csv();
const tsv = FileAttachment("data/table.tsv").tsv({typed: true});
const auto = d3x.csvParse("a,b\\n1,x\\n", d3x.autoType);
\`\`\`

\`\`\`js
const chart = display(Plot.barY(typed, {x: "region", y: "amount"}).plot());
display(Inputs.table(untyped));
\`\`\`

<p id="typed">\${typeof typed[0].amount}:\${d3.sum(typed, (d) => d.amount)}</p>
<p id="untyped">\${typeof untyped[0].amount}</p>
<p id="tsv">\${tsv.length}:\${typeof tsv[0].n}</p>
<p id="autotype">\${typeof auto[0].a}</p>
<p id="plot">\${chart.querySelector("svg") || chart.tagName === "svg" ? "svg" : chart.tagName}</p>
`;

const FORMATS = `# Formats

\`\`\`js
const json = FileAttachment("data/info.json").json();
const text = FileAttachment("data/note.txt").text();
const blob = FileAttachment("data/blob.bin").blob();
const image = FileAttachment("data/pixel.png").image();
const arrow = FileAttachment("data/table.arrow").arrow();
const parquet = FileAttachment("data/table.parquet").parquet();
const db = FileAttachment("data/db.sqlite").sqlite();
const workbook = FileAttachment("data/book.xlsx").xlsx();
const zip = FileAttachment("data/archive.zip").zip();
\`\`\`

\`\`\`js
const rows = await db.query("SELECT count(*) AS n FROM t");
const sheet = workbook.sheet(0, {headers: true});
const zipped = await zip.file("inside.txt").text();
\`\`\`

<p id="json">\${json.name}</p>
<p id="text">\${text.trim()}</p>
<p id="blob">\${blob.size}</p>
<p id="image">\${image.naturalWidth}</p>
<p id="arrow">\${arrow.numRows}:\${arrow.getChild("x").toArray().reduce((a, b) => a + b, 0)}</p>
<p id="parquet">\${parquet.numRows}:\${Number(parquet.getChild("v").toArray().reduce((a, b) => a + b, 0))}</p>
<p id="sqlite">\${rows[0].n}</p>
<p id="xlsx">\${sheet.length}:\${sheet[0].b + sheet[1].b}</p>
<p id="zip">\${zipped.trim()}</p>
`;

const LIBRARIES = `# Libraries

\`\`\`js
const topology = {type: "Topology", arcs: [[[0, 0], [1, 0], [1, 1], [0, 0]]], objects: {shape: {type: "GeometryCollection", geometries: [{type: "Polygon", arcs: [[0]]}]}}};
const shapes = topojson.feature(topology, topology.objects.shape);
\`\`\`

\`\`\`js
const spec = vl.markBar().data([{a: "x", b: 1}, {a: "y", b: 2}]).encode(vl.x().fieldN("a"), vl.y().fieldQ("b"));
const vega = display(await spec.render());
\`\`\`

\`\`\`js
const diagram = display(await mermaid\`graph TD; A-->B\`);
\`\`\`

\`\`\`js
const formula = display(tex\`E = mc^2\`);
const graph = display(dot\`digraph { a -> b }\`);
const form = display(Inputs.range([0, 10], {label: "n", value: 3}));
const span = htl.html\`<span>hi</span>\`;
\`\`\`

\`\`\`js
const container = display(document.createElement("div"));
container.style.height = "200px";
const map = L.map(container).setView([0, 0], 1);
L.marker([0, 0]).addTo(map);
\`\`\`

<p id="topojson">\${shapes.features.length}</p>
<p id="vegalite">\${vega.querySelector("svg, canvas") !== null}</p>
<p id="mermaid">\${diagram.outerHTML.includes("<svg")}</p>
<p id="tex">\${formula.classList.contains("katex")}</p>
<p id="dot">\${graph.tagName}</p>
<p id="leaflet">\${typeof map.getZoom()}</p>
<p id="inputs">\${form.tagName.toLowerCase()}</p>
<p id="htl">\${span.tagName}</p>
`;

const ITEM = `# Dynamic page

<p id="item">\${observable.params.id}</p>
`;

const themePage = (theme: string) => `---
theme: ${theme}
---

# Theme ${theme}

Body text in the theme's serif font.

<p id="theme">\${"${theme}"}</p>
`;

const SQL_PAGE = `---
sql:
  nums: data/table.parquet
---
# SQL

\`\`\`sql id=rows
SELECT count(*)::INT AS n, sum(v)::INT AS s FROM nums
\`\`\`

\`\`\`js
const db = await DuckDBClient.of({sales: FileAttachment("data/sales.csv")});
const [total] = await db.query("SELECT sum(amount)::INT AS t FROM sales");
\`\`\`

<p id="sql-front-matter">\${Array.from(rows)[0].n}:\${Array.from(rows)[0].s}</p>
<p id="duckdbclient">\${total.t}</p>
`;

const TS_LOADER = `const rows: [string, number][] = [["north", 10], ["south", 32]];
process.stdout.write("region,amount\\n" + rows.map((r) => r.join(",")).join("\\n") + "\\n");
`;

const SHELL_LOADER = `#!/bin/sh
echo "from a shell loader"
`;

/** 1x1 transparent PNG. */
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

export interface FrameworkFixture {
  readonly root: string;
  write(path: string, content: string | Uint8Array): Promise<void>;
}

/** Writes the project into a new temp dir; node_modules links to this checkout's. */
export async function createFrameworkProject(): Promise<FrameworkFixture> {
  const root = await mkdtemp(join(tmpdir(), "lakebook-framework-"));
  const write = async (path: string, content: string | Uint8Array) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  await write("package.json", JSON.stringify({ private: true, type: "module" }));
  await write("observablehq.config.js", CONFIG);
  await write("src/index.md", INDEX);
  await write("src/formats.md", FORMATS);
  await write("src/libraries.md", LIBRARIES);
  await write("src/sql.md", SQL_PAGE);
  await write("src/items/[id].md", ITEM);
  for (const theme of THEMES) await write(`src/themes/${theme}.md`, themePage(theme));
  await write("src/data/sales.csv.ts", TS_LOADER);
  await write("src/data/note.txt.sh", SHELL_LOADER);
  await write("src/data/table.tsv", "name\tn\na\t1\nb\t2\n");
  await write("src/data/info.json", JSON.stringify({ name: "fixture" }));
  await write("src/data/blob.bin", new Uint8Array([1, 2, 3, 4]));
  await write("src/data/pixel.png", PIXEL);
  await write("src/data/table.arrow", await arrowFile());
  await writeParquet(join(root, "src/data/table.parquet"));
  await write("src/data/db.sqlite", await sqliteFile());
  await write("src/data/book.xlsx", await xlsxFile());
  const zip = new JSZip();
  zip.file("inside.txt", "zipped\n");
  await write("src/data/archive.zip", await zip.generateAsync({ type: "uint8array" }));
  return { root, write };
}

async function writeParquet(path: string): Promise<void> {
  const duckdb = await DuckDBInstance.create(":memory:");
  const connection = await duckdb.connect();
  await connection.run(
    `COPY (SELECT i::INTEGER AS v FROM (VALUES (10), (20), (30)) t(i)) TO '${path}' (FORMAT parquet)`,
  );
  connection.closeSync();
  duckdb.closeSync();
}

// Untyped packages, imported through a variable so TypeScript does not look for their types.
const untyped = (name: string): Promise<unknown> => import(name);

async function arrowFile(): Promise<Uint8Array> {
  const arrow = (await untyped("apache-arrow")) as {
    tableFromArrays(columns: Record<string, Int32Array>): unknown;
    tableToIPC(table: unknown, format: "file"): Uint8Array;
  };
  return arrow.tableToIPC(arrow.tableFromArrays({ x: Int32Array.from([1, 2, 3]) }), "file");
}

interface SqlJs {
  Database: new () => { run(sql: string): void; export(): Uint8Array; close(): void };
}

async function sqliteFile(): Promise<Uint8Array> {
  const initSqlJs = ((await untyped("sql.js")) as { default: () => Promise<SqlJs> }).default;
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2);");
  const bytes = db.export();
  db.close();
  return bytes;
}

async function xlsxFile(): Promise<Uint8Array> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet("one");
  sheet.addRows([
    ["a", "b"],
    ["x", 3],
    ["y", 4],
  ]);
  return new Uint8Array(await workbook.xlsx.writeBuffer());
}
