/**
 * `npm run bench:server`: requests/s for a published page fetched with an authenticated session
 * cookie (access control on, the page's CSP and build stamp computed as in production) against
 * nginx (Debian's package) serving the same files, in the same run, with the same autocannon client
 * on loopback. nginx runs one worker, the same single event loop Lakebook has.
 *
 * The two servers take turns for several rounds (a shared machine's noise then hits both alike)
 * and each is summarised by its median round. Prints every round with p99 latency; the last line
 * is `ratio=<lakebook median / nginx median> errors=<n>`, where errors counts failed requests and
 * non-2xx answers of all rounds. Not a pass/fail test.
 * Env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeConfig } from "../src/config.ts";
import { silentLogger } from "../src/logger.ts";
import { createStore } from "../src/store/index.ts";
import { startServer } from "../server/index.ts";
import { hashPassword } from "../src/auth/index.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const BUILD_ID = "20260101T000000000Z-abcdef";

interface Result {
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
}

/** A page shaped like Framework's output: head with links, an inline module script, ~20 KB. */
function page(): string {
  const rows = Array.from(
    { length: 200 },
    (_, i) => `<tr><td>${i}</td><td>item ${i}</td><td>${(i * 1.5).toFixed(2)}</td></tr>`,
  ).join("\n");
  const script = `\nimport {define} from "./_observablehq/client.js";\ndefine({id: "a1", inputs: ["display"], body: (display) => display(1)});\n`;
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Market overview</title>\n<link rel="stylesheet" href="./_observablehq/theme.css">\n<script type="module">${script}</script>\n</head>\n<body>\n<main><h1>Market overview</h1>\n<table>\n${rows}\n</table></main>\n</body>\n</html>\n`;
}

function findNginx(): string | undefined {
  for (const candidate of [
    "/usr/sbin/nginx",
    "/usr/bin/nginx",
    "/usr/local/sbin/nginx",
    "/usr/local/bin/nginx",
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    console.log("nginx not found: installing Debian's nginx-light (apt-get install -y nginx-light)");
    const install = spawnSync("apt-get", ["install", "-y", "-qq", "nginx-light"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (install.status === 0 && existsSync("/usr/sbin/nginx")) return "/usr/sbin/nginx";
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** autocannon in its own process, so the client never shares Lakebook's event loop. */
function autocannon(url: string, headers: Record<string, string>, seconds = SECONDS): Promise<Result> {
  const args = [
    "node_modules/autocannon/autocannon.js",
    "-j",
    "-c",
    String(CONNECTIONS),
    "-d",
    String(seconds),
  ];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}=${value}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", () => {
      try {
        const json = JSON.parse(out) as {
          requests: { average: number };
          latency: { p99: number };
          errors: number;
          timeouts: number;
          non2xx: number;
        };
        resolve({
          rps: json.requests.average,
          p99: json.latency.p99,
          errors: json.errors + json.timeouts + json.non2xx,
        });
      } catch (error) {
        reject(new Error(`autocannon gave no JSON: ${out.slice(0, 200)}`, { cause: error }));
      }
    });
  });
}

function line(name: string, result: Result): string {
  return `${name.padEnd(9)} ${result.rps.toFixed(0).padStart(7)} req/s  p99 ${result.p99} ms  errors ${result.errors}`;
}

/** The round with the median request rate (its own p99 and errors). */
function median(results: readonly Result[]): Result {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not come up`);
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "lakebook-bench-"));
  await chmod(root, 0o755);
  const buildDir = join(root, "site", "builds", BUILD_ID);
  await mkdir(join(buildDir, "_observablehq"), { recursive: true });
  await writeFile(join(buildDir, "index.html"), page());
  await writeFile(join(buildDir, "_observablehq", "client.js"), "export function define() {}\n");
  await symlink(join("builds", BUILD_ID), join(root, "site", "current"));
  await mkdir(join(root, "lake"), { recursive: true });

  const config = normalizeConfig({ root, siteDir: "site", lakeDir: "lake", host: "127.0.0.1", port: 0 });
  const store = await createStore({ kind: "pglite" });
  await store.addUser({
    name: "bench",
    role: "viewer",
    passwordHash: await hashPassword("bench password 123"),
  });
  const lakebook = await startServer(config, { logger: silentLogger, store, schedules: false });
  let nginx: ReturnType<typeof spawn> | undefined;
  try {
    const login = await fetch(`${lakebook.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bench", password: "bench password 123" }),
    });
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith("lakebook_session="))
      ?.split(";")[0];
    if (!cookie) throw new Error(`login failed: ${login.status}`);
    const check = await fetch(`${lakebook.url}/`, { headers: { cookie }, redirect: "manual" });
    if (check.status !== 200) throw new Error(`the page answered ${check.status} with the session cookie`);

    console.log(
      `page: ${page().length} bytes; ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each, autocannon on loopback`,
    );
    const binary = findNginx();
    let nginxUrl: string | undefined;
    if (binary) {
      const port = await freePort();
      const conf = join(root, "nginx.conf");
      await writeFile(
        conf,
        `worker_processes 1;\npid ${root}/nginx.pid;\nerror_log ${root}/nginx-error.log;\nevents { worker_connections 1024; }\n` +
          `http {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 100000;\n` +
          `  client_body_temp_path ${root}/nginx-body;\n  proxy_temp_path ${root}/nginx-proxy;\n  fastcgi_temp_path ${root}/nginx-fastcgi;\n` +
          `  uwsgi_temp_path ${root}/nginx-uwsgi;\n  scgi_temp_path ${root}/nginx-scgi;\n  types { text/html html; text/javascript js; }\n` +
          `  server {\n    listen 127.0.0.1:${port};\n    root ${join(root, "site", "current")};\n` +
          `    location / { try_files $uri $uri.html $uri/index.html =404; }\n  }\n}\n`,
      );
      nginx = spawn(binary, ["-c", conf, "-e", join(root, "nginx-error.log"), "-g", "daemon off;"], {
        stdio: "inherit",
      });
      nginxUrl = `http://127.0.0.1:${port}/`;
      await waitFor(nginxUrl);
    }

    // Warm-up, not reported: JIT compilation and the caches of both servers.
    await autocannon(`${lakebook.url}/`, { cookie }, 2);
    if (nginxUrl) await autocannon(nginxUrl, { cookie }, 2);

    const ours: Result[] = [];
    const theirs: Result[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const lakebookRound = await autocannon(`${lakebook.url}/`, { cookie });
      ours.push(lakebookRound);
      console.log(`round ${round}  ${line("lakebook", lakebookRound)}`);
      if (nginxUrl) {
        const nginxRound = await autocannon(nginxUrl, { cookie });
        theirs.push(nginxRound);
        console.log(`round ${round}  ${line("nginx", nginxRound)}`);
      }
    }
    const errors = [...ours, ...theirs].reduce((sum, result) => sum + result.errors, 0);
    console.log(`median   ${line("lakebook", median(ours))}`);
    if (!nginxUrl) {
      console.log(
        "nginx is missing: install Debian's nginx-light (apt-get install -y nginx-light) to compare",
      );
      console.log(`ratio=NaN errors=${errors}`);
      return;
    }
    console.log(`median   ${line("nginx", median(theirs))}`);
    console.log(`ratio=${(median(ours).rps / median(theirs).rps).toFixed(2)} errors=${errors}`);
  } finally {
    nginx?.kill("SIGTERM");
    await lakebook.close();
    await store.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
