/**
 * The whole path a new user takes: `lakebook new` into a folder outside this repository,
 * `npm install` (a file: dependency on this checkout), a JSON API source served by a local HTTP
 * server, a model joining it with the scaffold's file source, a page; `lakebook run`, then
 * `lakebook build` inside an empty network namespace, then Chromium reads the joined rows.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { launchChromium } from "../../src/sources/index.ts";
import { startServer } from "../../server/index.ts";
import { REPO_ROOT, runLakebook } from "../helpers/cli.ts";
import { networkIsolationProblem } from "../helpers/offlineBuild.ts";

const exec = promisify(execFile);
let dir: string;
let api: Server;
let apiOrigin: string;

/** The environment of a user's shell: none of this test run's Lakebook settings. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("LAKEBOOK_") && name !== "DATABASE_URL"),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lakebook-new-"));
  api = createServer((req, res) => {
    if (req.url !== "/regions") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        data: [
          { region: "north", manager: "Ada Lovelace" },
          { region: "south", manager: "Grace Hopper" },
          { region: "east", manager: "Katherine Johnson" },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  apiOrigin = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => api?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("lakebook new, end to end", () => {
  it("scaffolds, installs, runs, builds offline and shows a model joining an API with the file source", async () => {
    const problem = await networkIsolationProblem();
    expect(
      problem,
      `this test needs 'unshare --net' (root, util-linux, iproute2): ${problem}`,
    ).toBeUndefined();
    const root = join(dir, "shop");
    expect(root.startsWith(REPO_ROOT)).toBe(false);
    const created = await runLakebook(["new", root]);
    expect(created.code, created.stderr).toBe(0);
    await exec("npm", ["install", "--offline", "--no-audit", "--no-fund"], { cwd: root, env: userEnv() });

    await writeFile(
      join(root, "sources/managers.ts"),
      `import { defineSource } from "lakebook";

export default defineSource({
  kind: "api",
  url: "${apiOrigin}/regions",
  itemsPath: "data",
  columns: "region:VARCHAR,manager:VARCHAR",
});
`,
    );
    await writeFile(
      join(root, "models/curated/region_sales.sql"),
      `-- ---
-- order_by: region
-- ---
SELECT o.region, m.manager, sum(o.amount) AS revenue
  FROM staging.orders o
  JOIN raw.managers m ON m.region = o.region
 GROUP BY o.region, m.manager
`,
    );
    await writeFile(
      join(root, "loaders/region_sales.json.ts"),
      `import { readDataset } from "lakebook";\n\nconst { snapshot } = await readDataset("curated.region_sales");\nprocess.stdout.write(JSON.stringify(snapshot));\n`,
    );
    await writeFile(
      join(root, "notebooks/regions.md"),
      `# Regions

\`\`\`js
const sales = FileAttachment("data/region_sales.json").json();
\`\`\`

<table id="joined">\${sales.rows.map((d) => html\`<tr><td>\${d.region}</td><td>\${d.manager}</td><td>\${d.revenue}</td></tr>\`)}</table>
`,
    );

    const bin = join(root, "node_modules/lakebook/bin/lakebook.js");
    const run = await exec(process.execPath, [bin, "run"], { cwd: root, env: userEnv() });
    expect(run.stdout).toMatch(/^raw\.managers v1 \(3 rows\) new$/m);
    expect(run.stdout).toMatch(/^curated\.region_sales v1 \(3 rows\) new$/m);

    // The build runs where only loopback exists: the API server above is unreachable from there.
    const script = `ip link set lo up && exec "${process.execPath}" "${bin}" build`;
    await exec("unshare", ["--net", "sh", "-c", script], { cwd: root, env: userEnv(), timeout: 300_000 });

    const server = await startServer(normalizeConfig({ root, port: 0 }), { logger: silentLogger });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const offOrigin: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(new URL(server.url).origin) && !request.url().startsWith("data:"))
          offOrigin.push(request.url());
      });
      await page.goto(`${server.url}/regions`, { waitUntil: "networkidle" });
      const rows = await page
        .locator("#joined tr")
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
      expect(rows).toEqual([
        ["east", "Katherine Johnson", "559.90"],
        ["north", "Ada Lovelace", "412.74"],
        ["south", "Grace Hopper", "227.90"],
      ]);
      await page.goto(`${server.url}/`, { waitUntil: "networkidle" });
      expect(await page.locator("#version").textContent()).toBe("1");
      expect(await page.locator("figure svg, svg.plot-d3").count()).toBeGreaterThan(0);
      expect(offOrigin).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 600_000);
});
