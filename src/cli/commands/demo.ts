import { build } from "./build.ts";
import { pipeline } from "./pipeline.ts";
import { serve } from "./serve.ts";

/** The whole path on the embedded defaults: data through the lake, a published build, a server. */
export async function demo(options: { port?: number; host?: string }): Promise<void> {
  console.log("1/3 running the market pipeline (landing -> raw -> staging -> curated)");
  await pipeline();
  console.log("2/3 building the notebooks (offline)");
  await build();
  console.log("3/3 serving");
  await serve(options);
}
