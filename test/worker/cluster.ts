/**
 * A real cluster for worker tests: PostgreSQL at 127.0.0.1:5432 in a random schema (and a random
 * queue schema), reached through a loopback TCP proxy the test can cut; "server" runners in this
 * process that only enqueue, and `lakebook worker` child processes, exactly as deployed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { configFromEnv, type Config } from "../../src/config.ts";
import { benchJobs } from "../../src/jobs/benchJobs.ts";
import { defaultJobs, withJobs } from "../../src/jobs/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { createPgBossQueue, queueSettingsFromEnv, type RunQueue } from "../../src/queue/index.ts";
import { createStore, quoteIdentifier, type Store } from "../../src/store/index.ts";
import { createRunner, type Runner } from "../../server/runs/runner.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import { TEST_DATABASE_URL } from "../helpers/postgres.ts";
import { createTcpProxy, type TcpProxy } from "../helpers/tcpProxy.ts";

export interface ServerSide {
  readonly store: Store;
  readonly queue: RunQueue;
  readonly runner: Runner;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** The worker's id, once it printed it. */
  readonly id: Promise<string>;
  /** Where it serves its metrics, once it printed it (started with `--metrics-port`). */
  readonly metricsUrl: Promise<string>;
  readonly exited: Promise<number | null>;
  output(): string;
}

export interface Cluster {
  readonly schema: string;
  readonly queueSchema: string;
  readonly proxy: TcpProxy;
  /** DATABASE_URL of every process: through the proxy, in the test schema. */
  readonly databaseUrl: string;
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  startServerSide(): Promise<ServerSide>;
  spawnWorker(options?: { concurrency?: number; env?: NodeJS.ProcessEnv; args?: string[] }): WorkerProcess;
  /** Rows of the queue's job table for the runs queue. */
  queueJobs(): Promise<{ state: string; retry_count: number; data: { runId: string } }[]>;
  close(): Promise<void>;
}

export async function openCluster(env: NodeJS.ProcessEnv = {}): Promise<Cluster> {
  const suffix = randomBytes(4).toString("hex");
  const schema = `lakebook_test_${suffix}`;
  const queueSchema = `lakebook_queue_${suffix}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  await admin.end();
  const proxy = await createTcpProxy({
    host: "127.0.0.1",
    port: Number(new URL(TEST_DATABASE_URL).port || 5432),
  });
  const proxied = new URL(proxy.urlFor(TEST_DATABASE_URL));
  proxied.searchParams.set("options", `-c search_path=${schema}`);
  const databaseUrl = proxied.toString();
  const dir = await mkdtemp(join(tmpdir(), "lakebook-workers-"));
  const fullEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl,
    LAKEBOOK_LAKE_DIR: join(dir, "lake"),
    LAKEBOOK_SITE_DIR: join(dir, "site"),
    LAKEBOOK_LOG_LEVEL: "info",
    LAKEBOOK_QUEUE_SCHEMA: queueSchema,
    LAKEBOOK_QUEUE_HEARTBEAT_SECONDS: "10",
    LAKEBOOK_QUEUE_MONITOR_SECONDS: "1",
    LAKEBOOK_QUEUE_POLLING_SECONDS: "0.5",
    LAKEBOOK_BENCH_JOBS: "true",
    ...env,
  };
  const config = configFromEnv(fullEnv, { root: REPO_ROOT });
  const serverSides: ServerSide[] = [];
  const workers: WorkerProcess[] = [];

  return {
    schema,
    queueSchema,
    proxy,
    databaseUrl,
    config,
    env: fullEnv,
    async startServerSide() {
      const store = await createStore({ kind: "postgres", url: databaseUrl, max: 4 });
      const queue = await createPgBossQueue({
        url: databaseUrl,
        logger: silentLogger,
        ...queueSettingsFromEnv(fullEnv),
      });
      const runner = createRunner({
        store,
        queue,
        logger: silentLogger,
        pollMs: 100,
        jobs: withJobs(defaultJobs(config, store), benchJobs(config, fullEnv)),
      });
      const side = { store, queue, runner };
      serverSides.push(side);
      return side;
    },
    spawnWorker(options = {}) {
      const child = spawn(
        process.execPath,
        [
          "bin/lakebook.js",
          "worker",
          "--concurrency",
          String(options.concurrency ?? 1),
          ...(options.args ?? []),
        ],
        { cwd: REPO_ROOT, env: { ...fullEnv, ...options.env }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let output = "";
      let resolveId: (id: string) => void = () => undefined;
      let resolveMetrics: (url: string) => void = () => undefined;
      const rejects: ((error: Error) => void)[] = [];
      const rejectStart = (error: Error): void => rejects.forEach((reject) => reject(error));
      const id = new Promise<string>((resolve, reject) => {
        resolveId = resolve;
        rejects.push(reject);
      });
      const metricsUrl = new Promise<string>((resolve, reject) => {
        resolveMetrics = resolve;
        rejects.push(reject);
      });
      const onData = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
        const match = /lakebook worker (\S+): taking runs/.exec(output);
        if (match) resolveId(match[1]!);
        const metrics = /: metrics at (\S+)/.exec(output);
        if (metrics) resolveMetrics(metrics[1]!);
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      // A worker that exits before it started fails the test at once, with what it printed.
      void exited.then((code) => {
        const error = new Error(`the worker exited (${code}) before starting:\n${output}`);
        void id.catch(() => undefined);
        void metricsUrl.catch(() => undefined);
        rejectStart(error);
      });
      const worker = { child, id, metricsUrl, exited, output: () => output };
      workers.push(worker);
      return worker;
    },
    async queueJobs() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT state, retry_count, data FROM ${quoteIdentifier(queueSchema)}.job WHERE name = 'lakebook-runs'`,
        );
        return rows as { state: string; retry_count: number; data: { runId: string } }[];
      } finally {
        await client.end();
      }
    },
    async close() {
      proxy.restore();
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill("SIGKILL");
      await Promise.all(workers.map((worker) => worker.exited));
      for (const side of serverSides) {
        await side.runner.drain(1000).catch(() => undefined);
        await side.queue.close().catch(() => undefined);
        await side.store.close().catch(() => undefined);
      }
      await proxy.close();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(queueSchema)} CASCADE`);
      await client.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
