import { defineConfig } from "vitest/config";

process.env.TZ = "UTC";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The slow fault suite runs on its own: npm run test:faults (vitest.faults.config.ts), with
    // the worker fault tests (SIGKILL, SIGTERM, PostgreSQL cut; minutes each for queue leases).
    exclude: [
      "test/faults/**",
      "test/worker/worker.test.ts",
      "test/worker/cluster.test.ts",
      "test/worker/fanOut.test.ts",
      "**/node_modules/**",
    ],
    // One offline build of the notebooks shared by the e2e files (test/e2e/setup.ts).
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Browser and build tests share one built fixture site; running files in parallel on a
    // 2-core machine only makes each slower.
    fileParallelism: false,
    env: { TZ: "UTC" },
  },
});
