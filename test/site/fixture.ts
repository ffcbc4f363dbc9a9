/**
 * A small Lakebook project in a temp dir for the site tests: the real observablehq.config.ts,
 * notebooks/style.css and components/duckdb.js, a `data` link to a TypeScript loader, a page
 * using Plot, d3 and Inputs, and an explorer page using the DuckDB helper. node_modules is a
 * symlink to this checkout's, which the config resolves tsx through.
 */
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { normalizeConfig, type Config } from "../../src/config.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const INDEX_PAGE = `# Prices

\`\`\`js
const prices = FileAttachment("data/prices.csv").csv({typed: true});
\`\`\`

\`\`\`js
const total = d3.sum(prices, (d) => d.close);
const threshold = view(Inputs.range([0, 10], {label: "Threshold", value: 2}));
display(Plot.lineY(prices, {x: "date", y: "close"}).plot());
\`\`\`

<p id="total">\${total}</p>

Plain links are not requests: <a href="https://example.com/docs">docs</a>.
`;

export const EXPLORE_PAGE = `# Explore

\`\`\`js
import {openDuckDB, registerParquetUrl, query} from "./components/duckdb.js";
const db = await openDuckDB();
await registerParquetUrl(db, "sales", "/lake/sales.parquet");
const result = await query(db, "SELECT count(*)::INTEGER AS n, sum(k)::INTEGER AS s FROM sales WHERE k = 3");
const version = await query(db, "SELECT version() AS v");
\`\`\`

<p id="count">\${result.get(0).n}</p>
<p id="sum">\${result.get(0).s}</p>
<p id="version">\${version.get(0).v}</p>
`;

export const PRICES_LOADER = `process.stdout.write("date,close\\n2024-01-01,1.5\\n2024-01-02,2.5\\n");\n`;

/** Echoes `<lake>/note.txt`, located through the environment buildSite gives loaders; fails on "fail". */
export const NOTE_LOADER = `import { readFileSync } from "node:fs";
const note = readFileSync(process.env.LAKEBOOK_LAKE_DIR + "/note.txt", "utf-8");
if (note.trim() === "fail") {
  process.stderr.write("note.txt failed its quality gate\\n");
  process.exit(1);
}
process.stdout.write(note);
`;

export const NOTE_PAGE = `# Note

\`\`\`js
const note = FileAttachment("data/note.txt").text();
\`\`\`

<p id="note">\${note}</p>
`;

/** A page only the finance group may read, with an attachment no other page uses. */
export const MARGINS_PAGE = `---
title: Margins
access: [finance]
---

# Margins

\`\`\`js
const margins = FileAttachment("../data/margins.csv").csv({typed: true});
\`\`\`

<p id="margins">\${margins.length}</p>
`;

export const MARGINS_LOADER = `process.stdout.write("desk,margin\\nrates,0.12\\n");\n`;

export interface SiteFixture {
  readonly root: string;
  readonly config: Config;
  write(path: string, content: string): Promise<void>;
  remove(path: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createSiteFixture(): Promise<SiteFixture> {
  const root = await mkdtemp(join(tmpdir(), "lakebook-site-"));
  const write = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  await cp(join(REPO_ROOT, "observablehq.config.ts"), join(root, "observablehq.config.ts"));
  await cp(join(REPO_ROOT, "notebooks/style.css"), join(root, "notebooks/style.css"));
  await cp(join(REPO_ROOT, "notebooks/components/duckdb.js"), join(root, "notebooks/components/duckdb.js"));
  await write("loaders/prices.csv.ts", PRICES_LOADER);
  await write("loaders/note.txt.ts", NOTE_LOADER);
  await write("notebooks/note.md", NOTE_PAGE);
  await write("data/lake/note.txt", "first note");
  await write("notebooks/index.md", INDEX_PAGE);
  await write("notebooks/explore.md", EXPLORE_PAGE);
  await write("notebooks/finance/margins.md", MARGINS_PAGE);
  await write("loaders/margins.csv.ts", MARGINS_LOADER);
  // No `data` link: buildSite creates it (linkLoaders), as after a fresh checkout.
  const config = normalizeConfig({ root });
  return {
    root,
    config,
    write,
    remove: (path) => rm(join(root, path), { force: true }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
