import { build } from "./build.ts";
import { run } from "./run.ts";
import { serve } from "./serve.ts";

/** The whole path on the embedded defaults: data through the lake, a published build, a server. */
export async function demo(options: { port?: number; host?: string }): Promise<void> {
  console.log("1/3 running the project's sources and models (landing -> raw -> staging -> curated)");
  await run({ args: [] });
  console.log("2/3 building the notebooks (offline)");
  await build();
  console.log("3/3 serving");
  await serve(options);
}
