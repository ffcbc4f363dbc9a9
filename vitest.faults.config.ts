import { defineConfig } from "vitest/config";

process.env.TZ = "UTC";

/**
 * The fault suite (`npm run test:faults`): slow crash, concurrency, read-only and outage tests on
 * millions of rows, kept out of `npm test`. Each test has its own time bound, and the npm script
 * bounds the whole run; every test prints what it did and checked as `[faults] ...` lines.
 */
export default defineConfig({
  test: {
    include: [
      "test/faults/**/*.test.ts",
      "test/worker/worker.test.ts",
      "test/worker/cluster.test.ts",
      "test/worker/fanOut.test.ts",
    ],
    testTimeout: 15 * 60_000,
    hookTimeout: 10 * 60_000,
    teardownTimeout: 30_000,
    fileParallelism: false,
    env: { TZ: "UTC" },
  },
});
