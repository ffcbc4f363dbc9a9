import { defineConfig } from "vitest/config";

process.env.TZ = "UTC";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Browser and build tests share one built fixture site; running files in parallel on a
    // 2-core machine only makes each slower.
    fileParallelism: false,
    env: { TZ: "UTC" },
  },
});
