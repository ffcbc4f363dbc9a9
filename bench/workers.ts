/**
 * `npm run bench:workers`: runs on `lakebook worker` processes through the PostgreSQL queue
 * (PostgreSQL at 127.0.0.1:5432, database `test`, in a random schema dropped afterwards).
 *
 * 1. BENCH_RUNS (1000) short runs (`bench:short`) on 3 workers (`--concurrency 4`); one worker is
 *    SIGKILLed when a third of the runs are done and a new one started. Prints runs/s and
 *    `lost=<runs not succeeded> duplicated=<runs completed more than once>`, plus `reexecuted=`:
 *    runs whose job body ran again because the killed worker held them (expected: at most the
 *    killed worker's concurrency; each still completed once).
 * 2. 8 independent CPU-bound jobs of ~1 s (`bench:cpu`, standing in for 8 independent models: the
 *    model graph of `lakebook run` is not on this branch) on 1 worker, then on 2 workers, each with
 *    `--concurrency 1`; prints both times and `parallel_ratio=<2 workers / 1 worker>` (goal <= 0.65 on
 *    this 2-core machine).
 *    BENCH_ROUNDS (3) alternating rounds; the medians are compared.
 * Not a pass/fail test.
 */
import pg from "pg";
import { quoteIdentifier } from "../src/store/index.ts";
import { openCluster, type Cluster, type ServerSide, type WorkerProcess } from "../test/worker/cluster.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const cluster = await openCluster({ LAKEBOOK_LOG_LEVEL: "warn", LAKEBOOK_BENCH_CPU_MS: "1000" });
  try {
    const server = await cluster.startServerSide();
    await shortRuns(cluster, server);
    await parallelRuns(cluster, server);
  } finally {
    await cluster.close();
  }
}

async function shortRuns(cluster: Cluster, server: ServerSide): Promise<void> {
  // Every run is queued first (16 triggers at a time), so the workers' pace is what is measured.
  const enqueueStart = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i += 16) {
    const batch = Array.from({ length: Math.min(16, RUNS - i) }, () =>
      server.runner.trigger({ job: "bench:short" }),
    );
    for (const run of await Promise.all(batch)) ids.push(run!.id);
  }
  console.log(`enqueued ${RUNS} runs in ${((performance.now() - enqueueStart) / 1000).toFixed(1)} s`);
  let workers = [0, 1, 2].map(() => cluster.spawnWorker({ concurrency: 4 }));
  await Promise.all(workers.map((w) => w.id));
  const started = performance.now();
  let killed: WorkerProcess | undefined;
  for (;;) {
    const done = await countFinished(cluster);
    if (!killed && done >= RUNS / 3) {
      killed = workers[0]!;
      killed.child.kill("SIGKILL");
      await killed.exited;
      console.log(`SIGKILLed a worker after ${done} runs; starting another`);
      workers = [...workers.slice(1), cluster.spawnWorker({ concurrency: 4 })];
    }
    if (done >= RUNS) break;
    if (performance.now() - started > 15 * 60_000) {
      console.log(`gave up after 15 min with ${done} runs finished`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = await completionStats(cluster, ids);
  console.log(
    `short runs: ${RUNS} on 3 workers (one SIGKILLed and replaced) in ${seconds.toFixed(1)} s: ` +
      `${(RUNS / seconds).toFixed(1)} runs/s`,
  );
  console.log(`lost=${stats.lost} duplicated=${stats.duplicated} reexecuted=${stats.reexecuted}`);
  for (const w of workers) w.child.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
}

async function parallelRuns(cluster: Cluster, server: ServerSide): Promise<void> {
  const timed = async (workerCount: number): Promise<number> => {
    const workers = Array.from({ length: workerCount }, () => cluster.spawnWorker({ concurrency: 1 }));
    await Promise.all(workers.map((w) => w.id));
    const started = performance.now();
    const runs = await Promise.all(
      Array.from({ length: 8 }, async () => (await server.runner.trigger({ job: "bench:cpu" }))!),
    );
    const settled = await Promise.all(runs.map((run) => server.runner.settled(run.id)));
    const seconds = (performance.now() - started) / 1000;
    const failed = settled.filter((run) => run?.status !== "succeeded").length;
    console.log(`8 cpu jobs on ${workerCount} worker(s): ${seconds.toFixed(2)} s (${failed} not succeeded)`);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    return seconds;
  };
  // Alternating rounds, so the shared machine's noise hits both alike; the medians are compared.
  const ones: number[] = [];
  const twos: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ones.push(await timed(1));
    twos.push(await timed(2));
  }
  console.log(`parallel_ratio=${(median(twos) / median(ones)).toFixed(2)}`);
}

async function query<T>(cluster: Cluster, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function countFinished(cluster: Cluster): Promise<number> {
  const [row] = await query<{ n: string }>(
    cluster,
    "SELECT count(*) AS n FROM runs WHERE job = 'bench:short' AND finished_at IS NOT NULL",
  );
  return Number(row?.n ?? 0);
}

async function completionStats(
  cluster: Cluster,
  ids: readonly string[],
): Promise<{ lost: number; duplicated: number; reexecuted: number }> {
  const [lost] = await query<{ n: string }>(
    cluster,
    "SELECT count(*) AS n FROM unnest($1::text[]) AS id LEFT JOIN runs USING (id) WHERE runs.status IS DISTINCT FROM 'succeeded'",
    [ids],
  );
  // Completed twice: more than one completed queue message for a run.
  const [duplicated] = await query<{ n: string }>(
    cluster,
    `SELECT count(*) AS n FROM (SELECT data->>'runId' FROM ${quoteIdentifier(cluster.queueSchema)}.job
       WHERE name = 'lakebook-runs' AND state = 'completed' GROUP BY 1 HAVING count(*) > 1) AS twice`,
  );
  const [reexecuted] = await query<{ n: string }>(
    cluster,
    `SELECT count(*) AS n FROM (SELECT run_id FROM run_logs WHERE message LIKE 'short run %'
       GROUP BY run_id HAVING count(*) > 1) AS again`,
  );
  return { lost: Number(lost?.n), duplicated: Number(duplicated?.n), reexecuted: Number(reexecuted?.n) };
}

await main();
