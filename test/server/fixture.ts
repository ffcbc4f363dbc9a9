/**
 * A real temp project for the server tests: a published site (`site/builds/<BUILD_1>` + `current`
 * symlink), a lake with a real Parquet file written by DuckDB, internal and other-zone files, and
 * symlinks that try to escape. Plus a raw HTTP helper for paths `fetch` would normalize.
 */
import { request } from "node:http";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { normalizeConfig, type Config } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { startServer, type RunningServer } from "../../server/index.ts";

/**
 * Build folders named as `lakebook build` names them, so pages are served the way production
 * serves them: from the page cache, through the fast path once a reader's session is known.
 */
export const BUILD_1 = "20260101T000000000Z-b1b1b1";
export const BUILD_2 = "20260102T000000000Z-b2b2b2";

export const PAGE_SCRIPT = `\nimport {define} from "./_observablehq/client.abc123.js";\ndefine({id: "1"});\n`;

export function page(title: string, extra = ""): string {
  return `<!DOCTYPE html>\n<html>\n<head>\n<title>${title}</title>\n<script type="module">${PAGE_SCRIPT}</script>\n</head>\n<body>\n<h1>${title}</h1>${extra}\n</body>\n</html>\n`;
}

export interface Fixture {
  readonly root: string;
  readonly config: Config;
  /** The curated Parquet file's bytes, to compare range responses with. */
  readonly parquet: Buffer;
  write(path: string, content: string | Buffer): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createFixture(options: { publish?: boolean } = {}): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), "lakebook-server-"));
  const write = async (path: string, content: string | Buffer): Promise<void> => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  const config = normalizeConfig({ root, lakeDir: "lake", siteDir: "site", host: "127.0.0.1", port: 0 });

  await write(`site/builds/${BUILD_1}/index.html`, page("Home b1"));
  await write(`site/builds/${BUILD_1}/explorer.html`, page("Explorer"));
  await write(`site/builds/${BUILD_1}/dir/index.html`, page("Dir index"));
  await write(`site/builds/${BUILD_1}/dir/page.html`, page("Dir page"));
  await write(`site/builds/${BUILD_1}/404.html`, page("Custom not found"));
  await write(`site/builds/${BUILD_1}/robots.txt`, "User-agent: *\n");
  await write(`site/builds/${BUILD_1}/_observablehq/client.abc123.js`, "export function define() {}\n");
  await write(`site/builds/${BUILD_1}/_observablehq/theme.abc123.css`, "body { color: black; }\n");
  await write(`site/builds/${BUILD_1}/_file/data/sales.abc123.csv`, "a,b\n1,2\n");
  await write(`site/builds/${BUILD_1}/_npm/lib@1.0.0/index.abc123.js`, "export default 1;\n");
  await write(`site/builds/${BUILD_1}/.hidden`, "hidden\n");
  await write(`site/builds/${BUILD_2}/index.html`, page("Home b2"));
  await write("outside/secret.txt", "secret outside the roots\n");
  await write("outside/site/index.html", page("Outside site"));
  await symlink(join(root, "outside/secret.txt"), join(root, `site/builds/${BUILD_1}/leak.txt`));
  if (options.publish !== false) await symlink(`builds/${BUILD_1}`, join(root, "site/current"));

  await mkdir(join(root, "lake/curated/sales"), { recursive: true });
  const parquetPath = join(root, "lake/curated/sales/data.parquet");
  const duckdb = await DuckDBInstance.create(":memory:");
  const connection = await duckdb.connect();
  await connection.run(
    `COPY (SELECT i AS id, 'item-' || i AS name, i * 1.5 AS price FROM range(20000) t(i))
     TO '${parquetPath}' (FORMAT parquet)`,
  );
  connection.closeSync();
  duckdb.closeSync();
  await write("lake/curated/sales/data.csv", "id,name\n1,a\n");
  await write("lake/curated/sales/meta.json", '{"rows":20000}\n');
  await write("lake/curated/sales/empty.csv", "");
  await write("lake/curated/ventes/données été.csv", "mois,total\njuin,3\n");
  await write("lake/curated/sales/_versions/v1/data.parquet", "old version");
  await write("lake/curated/sales/.tmp-123", "partial write");
  await write("lake/curated/_catalog.json", "{}");
  await write("lake/curated/wasm/duckdb.wasm", Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  await write("lake/curated/wasm/worker.js", "self.onmessage = () => {};\n");
  await write("lake/raw/sales/data.parquet", "raw");
  await write("lake/landing/sales/page.html", "landing");
  await write("lake/staging/sales/data.parquet", "staging");
  await write("lake/archive/sales/data.parquet", "archive");
  await symlink("/etc/passwd", join(root, "lake/curated/sales/passwd.csv"));
  await symlink(join(root, "lake/raw"), join(root, "lake/curated/rawlink"));
  await symlink(
    join(root, "lake/curated/sales/data.parquet"),
    join(root, "lake/curated/sales/latest.parquet"),
  );

  return {
    root,
    config,
    parquet: await readFile(parquetPath),
    write,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Starts a silent server on 127.0.0.1, port 0. */
export function listen(config: Config): Promise<RunningServer> {
  return startServer(config, { logger: silentLogger });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends `path` byte for byte (no URL normalization), as a hostile client would. */
export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
