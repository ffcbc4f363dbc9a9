/**
 * A process that runs one job which never ends, through the real runner, on the PostgreSQL store
 * schema argv[2] (lease argv[3] ms); the job records a build with its lease kept the way
 * `publishBuild` keeps it. Prints `{"runId", "buildId"}` once both are recorded, then works
 * until it is killed. Spawned by test/server/runLease.test.ts, which kills it with SIGKILL.
 */
import { createRunner } from "../../server/runs/runner.ts";
import { silentLogger } from "../../src/logger.ts";
import { createStore, keepLeased } from "../../src/store/index.ts";
import { TEST_DATABASE_URL } from "./postgres.ts";

const [schema = "", lease = "2000"] = process.argv.slice(2);
const leaseMs = Number(lease);
const store = await createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema, max: 2 });
const runner = createRunner({
  store,
  logger: silentLogger,
  leaseMs,
  jobs: {
    forever: async ({ run }) => {
      const buildId = `20260401T000000000Z-${run.id.slice(-6)}`;
      await store.startBuild({ id: buildId, runId: run.id, startedAt: new Date(), leaseMs });
      keepLeased(store, "build", buildId, leaseMs);
      console.log(JSON.stringify({ runId: run.id, buildId }));
      await new Promise(() => setInterval(() => undefined, 60_000));
    },
  },
});
await runner.trigger({ job: "forever" });
