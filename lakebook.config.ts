// This repository's project settings (the market demo). Machine settings (ports, folders,
// database, keys) come from the environment; see README.md.
import { defineConfig } from "lakebook";

export default defineConfig({
  // Independent sources and models `lakebook run` runs at once.
  concurrency: 2,
  // Schedules run on `lakebook serve`, once per tick across servers sharing a PostgreSQL, e.g.
  // schedules: [{ name: "nightly", cron: "0 3 * * *", run: "+curated.prices", build: true }],
  schedules: [],
});
