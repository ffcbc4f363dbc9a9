import { mkdir, readdir, readlink, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BuildError } from "../../src/errors.ts";
import {
  createBuildId,
  linkLoaders,
  listBuilds,
  maybeCurrentBuild,
  pruneBuilds,
  switchCurrent,
} from "../../src/site/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";

const tempDir = useTempDirs();

async function addBuild(siteDir: string, id: string): Promise<void> {
  await mkdir(join(siteDir, "builds", id), { recursive: true });
  await writeFile(join(siteDir, "builds", id, "index.html"), id);
}

describe("build ids", () => {
  it("sort in the order they were created", () => {
    const a = createBuildId(new Date("2026-11-25T19:00:00.005Z"), () => "ffffff");
    const b = createBuildId(new Date("2026-11-25T19:00:00.010Z"), () => "000000");
    expect(a).toBe("20261125T190000005Z-ffffff");
    expect([b, a].sort()).toEqual([a, b]);
  });
});

describe("publishing", () => {
  it("switches current with a relative symlink and leaves no temp link", async () => {
    const site = await tempDir();
    const [a, b] = ["20261125T190000000Z-aaaaaa", "20261125T190100000Z-bbbbbb"];
    await addBuild(site, a);
    await addBuild(site, b);
    expect(await maybeCurrentBuild(site)).toBeUndefined();
    await switchCurrent(site, a);
    await switchCurrent(site, b);
    expect(await readlink(join(site, "current"))).toBe(`builds/${b}`);
    expect(await maybeCurrentBuild(site)).toBe(b);
    expect((await readdir(site)).sort()).toEqual(["builds", "current"]);
  });

  it("prunes to the newest N builds but never the current one, and old partial folders", async () => {
    const site = await tempDir();
    const ids = [1, 2, 3, 4].map((i) => `20261125T19000${i}000Z-00000${i}`);
    for (const id of ids) await addBuild(site, id);
    await switchCurrent(site, ids[0]!);
    await mkdir(join(site, "builds", "20261125T190005000Z-000005.partial"));
    const stale = join(site, "builds", "20261124T100000000Z-000000.partial");
    await mkdir(stale);
    await utimes(stale, new Date("2026-11-24T10:00:00Z"), new Date("2026-11-24T10:00:00Z"));
    const removed = await pruneBuilds(site, 2, { now: new Date("2026-11-25T19:10:00Z") });
    expect(removed).toEqual([ids[1], "20261124T100000000Z-000000.partial"]);
    expect(await listBuilds(site)).toEqual([ids[0], ids[2], ids[3]]);
    expect(await readdir(join(site, "builds"))).toContain("20261125T190005000Z-000005.partial");
  });
});

describe("linkLoaders", () => {
  it("links notebooks/data to the loaders folder with a relative path, idempotently", async () => {
    const root = await tempDir();
    const config = { notebooksDir: join(root, "notebooks"), loadersDir: join(root, "loaders") };
    await mkdir(config.notebooksDir);
    await linkLoaders(config);
    await linkLoaders(config);
    expect(await readlink(join(config.notebooksDir, "data"))).toBe("../loaders");
  });

  it("repairs a link that points elsewhere", async () => {
    const root = await tempDir();
    const config = { notebooksDir: join(root, "notebooks"), loadersDir: join(root, "src", "loaders") };
    await mkdir(config.notebooksDir);
    await symlink("../old", join(config.notebooksDir, "data"));
    await linkLoaders(config);
    expect(await readlink(join(config.notebooksDir, "data"))).toBe("../src/loaders");
  });

  it("refuses to replace a real data folder and says what to do", async () => {
    const root = await tempDir();
    const config = { notebooksDir: join(root, "notebooks"), loadersDir: join(root, "loaders") };
    await mkdir(join(config.notebooksDir, "data"), { recursive: true });
    const error = await linkLoaders(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toMatch(/is not a symlink: move its files into .*loaders/);
  });
});
