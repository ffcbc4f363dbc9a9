/**
 * Running a model: its SQL becomes a promotion step (src/pipeline/promote.ts) reading the current
 * version of every dataset it names, gated by the dataset's quality suite
 * (`quality/<zone>.<dataset>.yaml`) when there is one. A model whose step and input versions
 * match its current version's lineage commits nothing and reads no data (only manifests).
 */
import type { Lake } from "../lake/index.ts";
import { type DatasetRef, type PromotionResult, type PromotionStep, promote } from "../pipeline/index.ts";
import { maybeSuite, qualityGate } from "../quality/index.ts";
import type { ProjectModel } from "./modelFile.ts";
import { relationName } from "./sqlRefs.ts";

/** The promotion step a model stands for (without its gate). */
export function modelStep(model: ProjectModel): PromotionStep {
  const inputs: Record<string, DatasetRef> = {};
  for (const ref of model.references)
    inputs[relationName(ref.zone, ref.dataset)] = { zone: ref.zone, dataset: ref.dataset };
  const { key, latestBy, orderBy, rowGroupSize, allowSchemaChanges, partitionBy, incremental, fileRows } =
    model.settings;
  return {
    inputs,
    output: { zone: model.zone, dataset: model.dataset },
    sql: model.sql,
    ...(key && { key }),
    ...(latestBy && { latestBy }),
    ...(orderBy && { orderBy }),
    ...(rowGroupSize && { rowGroupSize }),
    ...(allowSchemaChanges && { allowSchemaChanges }),
    ...(partitionBy && { partitionBy }),
    ...(incremental && { incremental }),
    ...(fileRows && { fileRows }),
  };
}

export async function runModelStep(
  lake: Lake,
  model: ProjectModel,
  suitesDir: string,
): Promise<PromotionResult> {
  const suite = await maybeSuite(suitesDir, model.zone, model.dataset);
  const step = modelStep(model);
  return promote(lake, suite ? { ...step, gate: qualityGate(lake, suite) } : step);
}
