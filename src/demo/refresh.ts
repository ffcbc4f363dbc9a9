/**
 * What every demo loader does first: bring the lake up to date with the demo sources. Idempotent
 * (unchanged inputs commit nothing). A promotion blocked by its quality gate is not a build
 * failure here: the previous good version stays current, and loaders that show data report the
 * block on the page (`readCheckedSnapshot`); `lakebook build --strict` fails in those loaders.
 */
import { QualityError } from "../errors.ts";
import type { Lake } from "../lake/index.ts";
import { runMarketPipeline } from "./marketPipeline.ts";

export async function refreshDemoData(lake: Lake): Promise<{ blocked: QualityError | undefined }> {
  try {
    await runMarketPipeline(lake);
    return { blocked: undefined };
  } catch (error) {
    if (error instanceof QualityError) return { blocked: error };
    throw error;
  }
}
