import { readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishBuild } from "../../server/index.ts";
import { BUILD_1, createFixture, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
});

afterAll(async () => {
  await db?.drop();
  await fixture?.cleanup();
});

describe("publishBuild", () => {
  it("records a failed build with its error and leaves the live site as it was", async () => {
    const config = { ...fixture.config, notebooksDir: join(fixture.root, "no-notebooks") };
    await fixture.write("no-notebooks/.keep", "");
    await expect(publishBuild(config, db.store)).rejects.toThrow();
    const [build] = await db.store.listBuilds();
    expect(build).toMatchObject({ status: "failed" });
    expect(build!.error).toBeTruthy();
    expect(build!.durationMs).toBeGreaterThanOrEqual(0);
    expect(await readlink(join(fixture.root, "site", "current"))).toBe(`builds/${BUILD_1}`);
  });
});
