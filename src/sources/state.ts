/**
 * Per-source state remembered between runs (HTTP validators, PostgreSQL watermarks), kept in the
 * lake beside the source's landings: `landing/source=<source>/_state/<name>.json`. State is
 * written only after a run succeeded, so a failed run never moves it.
 */
import { type Storage, joinKey, normalizeName } from "../lake/index.ts";

function stateKey(source: string, name: string): string {
  return joinKey(
    "landing",
    `source=${normalizeName(source, "source name")}`,
    "_state",
    `${normalizeName(name)}.json`,
  );
}

export async function maybeReadState<T>(
  storage: Storage,
  source: string,
  name: string,
): Promise<T | undefined> {
  const bytes = await storage.maybeRead(stateKey(source, name));
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
}

/** Writes the state; an unchanged state is not rewritten, so an unchanged source changes nothing. */
export async function writeState(
  storage: Storage,
  source: string,
  name: string,
  state: unknown,
): Promise<void> {
  const key = stateKey(source, name);
  const text = JSON.stringify(state, null, 2) + "\n";
  if ((await storage.maybeRead(key))?.toString("utf8") === text) return;
  await storage.write(key, text);
}
