/**
 * Jobs for `npm run bench:workers` and the worker fault tests, known to a worker only when
 * LAKEBOOK_BENCH_JOBS=true (servers that enqueue them need the same setting):
 *
 * - `bench:short`: one log line; measures the queue's own cost per run.
 * - `bench:cpu`: ~1 s of CPU-bound hashing (LAKEBOOK_BENCH_CPU_MS), standing in for a model step
 *   until the model graph (`lakebook run`) is on this branch.
 * - `bench:sleep`: waits LAKEBOOK_BENCH_SLEEP_MS (default 3000) in 100 ms steps, logging each
 *   second, and stops when its signal aborts: a run long enough to kill a worker in the middle of.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config.ts";
import type { Job } from "./job.ts";

export function benchJobs(_config: Config, env: NodeJS.ProcessEnv = process.env): Record<string, Job> {
  const cpuMs = Number(env.LAKEBOOK_BENCH_CPU_MS ?? "1000");
  const sleepMs = Number(env.LAKEBOOK_BENCH_SLEEP_MS ?? "3000");
  return {
    "bench:short": async (context) => {
      context.log("info", `short run ${context.run.id}`);
    },
    "bench:cpu": async (context) => {
      const until = performance.now() + cpuMs;
      let digest = Buffer.alloc(32);
      let rounds = 0;
      while (performance.now() < until) {
        for (let i = 0; i < 2000; i++) digest = createHash("sha256").update(digest).digest();
        rounds++;
        // Yield now and then so heartbeats and cancels are not starved.
        if (rounds % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        context.signal.throwIfAborted();
      }
      context.log("info", `cpu ${digest.toString("hex").slice(0, 12)} after ${rounds * 2000} hashes`);
    },
    "bench:sleep": async (context) => {
      for (let waited = 0; waited < sleepMs; waited += 100) {
        context.signal.throwIfAborted();
        if (waited % 1000 === 0) context.log("info", `sleeping: ${waited} ms of ${sleepMs}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      context.log("info", `slept ${sleepMs} ms`);
    },
  };
}
