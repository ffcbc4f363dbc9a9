/** Temp lakes for the source tests and a way to see exactly what a run changed. */
import { join } from "node:path";
import { createLake, type Lake } from "../../src/lake/index.ts";

export async function newLake(tempDir: () => Promise<string>): Promise<Lake> {
  return createLake({ lakeDir: join(await tempDir(), "lake") });
}

/** Every object key with its size and mtime, for "nothing already in the lake changed" checks. */
export async function lakeListing(lake: Lake): Promise<Map<string, string>> {
  const objects = await lake.storage.list("");
  return new Map(objects.map((o) => [o.key, `${o.size}@${o.modified.getTime()}`]));
}

/** Asserts that every object in `before` is unchanged in `after` and returns the added keys. */
export function addedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  for (const [key, stamp] of before) {
    if (after.get(key) !== stamp) throw new Error(`lake object ${key} changed or vanished`);
  }
  return [...after.keys()].filter((key) => !before.has(key)).sort();
}

/** A sleep that records the delays asked for and returns at once. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}
