/**
 * `lakebook new <dir>`: a working project outside this repository. It depends on this checkout
 * through a `file:` dependency (npm links it: no registry publishing needed), and holds one file
 * source with sample data, a staging and a curated model, a quality suite, a loader, a page with a
 * chart, a config, `.gitignore` and a README whose two commands are the same as Lakebook's own:
 * `npm install && npm run demo` (run, build offline, serve) and `npm test` (run the project, with
 * every model gated by its suite).
 */
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.ts";

/** This checkout: what the new project's `lakebook` dependency points at. */
export const LAKEBOOK_HOME = fileURLToPath(new URL("../../", import.meta.url));

const ORDERS_CSV = `order_id,day,region,amount
1001,2026-01-05,north,120.50
1002,2026-01-05,south,75.00
1003,2026-01-06,north,42.25
1004,2026-01-06,east,310.00
1005,2026-01-07,south,88.80
1006,2026-01-07,north,19.99
1007,2026-01-08,east,150.00
1008,2026-01-08,south,64.10
1009,2026-01-09,north,230.00
1010,2026-01-09,east,99.90
`;

function files(name: string): Record<string, string> {
  return {
    "package.json":
      JSON.stringify(
        {
          name,
          private: true,
          type: "module",
          scripts: {
            demo: "lakebook demo",
            run: "lakebook run",
            build: "lakebook build",
            preview: "lakebook preview",
            serve: "lakebook serve",
            test: "lakebook run",
          },
          dependencies: { lakebook: `file:${LAKEBOOK_HOME.replace(/\/$/, "")}` },
        },
        null,
        2,
      ) + "\n",
    ".npmrc": "audit=false\nfund=false\n",
    ".gitignore":
      "node_modules/\n.env\ndata/lake/\ndata/site/\ndata/store/\ndata/store.lock\ndata/secrets/\nnotebooks/.observablehq/\n",
    "README.md": `# ${name}

\`\`\`sh
npm install && npm run demo     # set up, run the sources and models, build the site offline, serve on http://127.0.0.1:3000
npm test                        # run every source and model; a failing quality suite fails it
\`\`\`

A [Lakebook](${LAKEBOOK_HOME}) project:

\`\`\`
lakebook.config.ts         settings and schedules
sources/orders.ts          a file source: samples/orders.csv -> raw.orders (typed, rejects with line numbers)
models/staging/orders.sql  one row per order (deduplicated on order_id)
models/curated/daily_sales.sql  revenue per day and region
quality/                   the suites gating the models: <zone>.<dataset>.yaml
loaders/daily_sales.json.ts  hands the page curated.daily_sales (import { readDataset } from "lakebook")
notebooks/index.md         the page, with a chart
\`\`\`

\`npx lakebook run\` runs everything in dependency order (\`run +curated.daily_sales\`, \`run raw.orders+\` for
parts), \`npx lakebook ls\` shows the graph with versions and quality, \`npx lakebook build\` publishes the site.
`,
    "lakebook.config.ts": `import { defineConfig } from "lakebook";

export default defineConfig({
  // Runs on \`lakebook serve\`, e.g. { name: "nightly", cron: "0 3 * * *", run: "+curated.daily_sales", build: true }
  schedules: [],
});
`,
    "observablehq.config.ts": `import { existsSync } from "node:fs";

// TypeScript loaders run with the tsx that comes with Lakebook.
const local = new URL("./node_modules/tsx/dist/loader.mjs", import.meta.url);
const tsxLoader = existsSync(local) ? local : new URL("./node_modules/lakebook/node_modules/tsx/dist/loader.mjs", import.meta.url);

export default {
  root: "notebooks",
  title: ${JSON.stringify(name)},
  globalStylesheets: ["/style.css"],
  footer: "",
  head: \`<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%234269d0'/%3E%3C/svg%3E">\`,
  interpreters: { ".ts": [process.execPath, "--import", tsxLoader.href] },
};
`,
    "samples/orders.csv": ORDERS_CSV,
    "sources/orders.ts": `import { defineSource } from "lakebook";

export default defineSource({
  kind: "file",
  path: "samples/orders.csv",
  columns: "order_id:BIGINT,day:DATE,region:VARCHAR,amount:DECIMAL(12,2)",
  description: "Orders exported by the shop",
});
`,
    "models/staging/orders.sql": `-- ---
-- description: One row per order; a re-exported order keeps its latest version
-- key: order_id
-- latest_by: _ingested_at
-- order_by: order_id
-- ---
SELECT order_id, day, region, amount, _ingested_at
  FROM raw.orders
`,
    "models/curated/daily_sales.sql": `-- ---
-- description: Revenue and orders per day and region
-- order_by: [day, region]
-- ---
SELECT day, region, sum(amount) AS revenue, count(*) AS orders
  FROM staging.orders
 GROUP BY day, region
`,
    "quality/curated.daily_sales.yaml": `zone: curated
dataset: daily_sales
expectations:
  - { type: not_null, column: day }
  - { type: between, column: revenue, min: 0 }
  - { type: unique, columns: [day, region] }
`,
    "loaders/daily_sales.json.ts": `import { readDataset } from "lakebook";

const { snapshot, quality } = await readDataset("curated.daily_sales");
process.stdout.write(JSON.stringify({ ...snapshot, quality }));
`,
    "notebooks/style.css": `@import url("./.observablehq/cache/_lakebook/fonts.css");\n`,
    "notebooks/index.md": `---
title: Daily sales
toc: false
---

# Daily sales

\`\`\`js
const sales = FileAttachment("data/daily_sales.json").json();
\`\`\`

\`\`\`js
const rows = sales.rows.map((d) => ({...d, day: new Date(\`\${d.day}T00:00:00Z\`), revenue: Number(d.revenue)}));
display(Plot.plot({
  marginLeft: 60,
  y: {grid: true, label: "revenue"},
  color: {legend: true},
  marks: [Plot.barY(rows, {x: "day", y: "revenue", fill: "region", tip: true}), Plot.ruleY([0])]
}));
\`\`\`

<p><code>\${sales.zone}.\${sales.dataset}</code> version <strong id="version">\${sales.version}</strong>, \${sales.rowCount} rows.</p>

\`\`\`js
display(Inputs.table(sales.rows));
\`\`\`
`,
  };
}

/** Writes a new project into `dir` (which must be empty or absent); returns the files written. */
export async function scaffoldProject(dir: string): Promise<string[]> {
  const root = resolve(dir);
  const existing = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  if (existing.length > 0) throw new ConfigError(`${root} is not empty: choose a new folder for the project`);
  const name =
    basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "lakebook-project";
  const written: string[] = [];
  for (const [path, content] of Object.entries(files(name))) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    written.push(path);
  }
  // Pages reach the loaders through notebooks/data (as in Lakebook's own layout).
  await symlink("../loaders", join(root, "notebooks", "data"));
  return written;
}
