/**
 * `npm run bench:build`: the demo's build, cold and again with nothing changed, in one run.
 *
 * Cold: Framework's cache (vendored npm bundles and loader outputs) is removed first, so every
 * library is bundled and every loader runs. No-change: the same build right after, which should
 * reuse every loader output and bundle. Each build prints its time per phase (prepare: loader
 * decisions; pages: Framework with its npm bundles and the loaders it runs; check: off-origin scan and access
 * rules; publish) and per loader, so the slowest phase is visible. The lake and the site go to a
 * temporary folder; the notebooks' own `.observablehq/cache` is the one a real build uses.
 * The last line is `ratio=<no-change seconds / cold seconds>` (goal: at most 0.10). Not a test.
 * Env: BENCH_ROUNDS (no-change builds after the cold one, default 2; the median is used).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeConfig } from "../src/config.ts";
import { loadProject, runProject } from "../src/project/index.ts";
import { createLake } from "../src/lake/index.ts";
import { buildSite, formatProgress, type BuildProgress } from "../src/site/index.ts";

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const root = process.cwd();
const scratch = await mkdtemp(join(tmpdir(), "lakebook-bench-build-"));
const config = normalizeConfig({ root, lakeDir: join(scratch, "lake"), siteDir: join(scratch, "site") });
// Loaders read the lake and site folders from the environment a build gives them (build.ts).
process.env.LAKEBOOK_LAKE_DIR = config.lakeDir;
process.env.LAKEBOOK_SITE_DIR = config.siteDir;

async function timedBuild(label: string): Promise<number> {
  const events: BuildProgress[] = [];
  const started = performance.now();
  await buildSite(config, { onProgress: (event) => events.push(event) });
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${label}: ${seconds.toFixed(1)} s`);
  for (const event of events) console.log(`  ${formatProgress(event)}`);
  return seconds;
}

try {
  console.log(`bench:build on ${root} (lake and site in ${scratch})`);
  // The data first, as `lakebook demo` does (`lakebook run`): builds only read it.
  await runProject(await loadProject(root), { lake: createLake(config), config });
  await rm(join(config.notebooksDir, ".observablehq", "cache"), { recursive: true, force: true });
  const cold = await timedBuild("cold build (empty Framework cache)");
  const warm: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) warm.push(await timedBuild(`no-change build ${round}`));
  const median = [...warm].sort((a, b) => a - b)[Math.floor(warm.length / 2)]!;
  console.log(`\ncold=${cold.toFixed(1)}s no_change_median=${median.toFixed(1)}s`);
  console.log(`ratio=${(median / cold).toFixed(3)}`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
