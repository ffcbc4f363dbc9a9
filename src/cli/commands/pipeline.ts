/** `lakebook pipeline`: the former name of `lakebook run` (the whole project). */
import { run } from "./run.ts";

export async function pipeline(): Promise<void> {
  await run({ args: [] });
}
