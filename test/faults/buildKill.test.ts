/**
 * kill -9 of `lakebook build` at random moments (LAKEBOOK_FAULT_KILLS, default 3; the seed replays
 * the kill times): after each kill the live site is the previous complete build, byte for byte, or
 * a new complete one, never a partial folder; the rerun publishes a complete build.
 */
import { readFile, readdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faultSeed, killDelay, report, runChild, seededRandom } from "../helpers/faults.ts";
import { createSiteFixture, type SiteFixture } from "../site/fixture.ts";

const KILLS = Number(process.env.LAKEBOOK_FAULT_KILLS ?? 3);
const seed = faultSeed();
const random = seededRandom(seed);

let fixture: SiteFixture;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  fixture = await createSiteFixture();
  // An ES-module project, as `lakebook new` writes it (the config and loaders use import).
  await fixture.write("package.json", JSON.stringify({ type: "module" }));
  env = { ...process.env, TZ: "UTC", LAKEBOOK_ROOT: fixture.root };
  for (const name of Object.keys(env))
    if (name.startsWith("LAKEBOOK_S3_") || name === "DATABASE_URL") delete env[name];
  delete env.LAKEBOOK_LAKE_DIR;
  delete env.LAKEBOOK_SITE_DIR;
  report(`build kill tests: ${KILLS} kills, seed ${seed}`);
});

afterAll(async () => {
  await fixture?.cleanup();
});

/** The live build's folder and its index page, as a reader would be served. */
async function live(): Promise<{ dir: string; index: string }> {
  const dir = await realpath(join(fixture.config.siteDir, "current"));
  return { dir, index: await readFile(join(dir, "index.html"), "utf8") };
}

describe("kill -9 at random moments", () => {
  it("of lakebook build never leaves a partial or damaged live site, and the rerun publishes", async () => {
    const first = await runChild(["build"], { env });
    expect(first.code, first.stderr).toBe(0);
    report(`lakebook build took ${first.ms} ms uninterrupted`);
    for (let k = 0; k < KILLS; k++) {
      const before = await live();
      // Every loader reruns on each attempt, so the kill can land in any phase of the build.
      await fixture.write("data/lake/note.txt", `note ${k}`);
      const delay = killDelay(k, KILLS, first.ms, random);
      const killed = await runChild(["build", "--refresh"], { env, killAfterMs: delay });
      const after = await live();
      expect(after.dir.endsWith(".partial"), after.dir).toBe(false);
      if (after.dir === before.dir) expect(after.index).toBe(before.index);
      else expect(after.index).toContain("<html");
      report(
        `kill ${k + 1} after ${delay} ms (${killed.signal ?? `exit ${killed.code}`}): live build ` +
          `${after.dir === before.dir ? "unchanged" : "is the new complete build"}`,
      );
    }
    const rerun = await runChild(["build"], { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    const final = await live();
    expect(final.dir.endsWith(".partial")).toBe(false);
    const notes = await readdir(join(final.dir, "_file", "data"));
    const note = notes.find((name) => name.startsWith("note."));
    expect(await readFile(join(final.dir, "_file", "data", note!), "utf8")).toBe(`note ${KILLS - 1}`);
    report(`rerun published ${final.dir.split("/").pop()} with the latest data`);
  });
});
