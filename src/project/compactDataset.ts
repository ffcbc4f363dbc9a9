/**
 * Compacting a project's dataset (`lakebook compact <zone>.<dataset>`, job `compact:<zone>.<dataset>`):
 * the dataset's model, when the project has one, gives the sort order, partitioning, file and
 * row group sizes; a dataset without a model keeps its rows' order and is written as one file
 * per partition.
 */
import { ConfigError } from "../errors.ts";
import type { Lake, VersionedZone } from "../lake/index.ts";
import { type CompactResult, DEFAULT_INCREMENTAL_FILE_ROWS, compact } from "../pipeline/index.ts";
import type { Project } from "./discover.ts";

const TARGET = /^(raw|staging|curated)[./]([A-Za-z0-9_-]{1,64})$/;

/** `<zone>.<dataset>` (or `<zone>/<dataset>`) as a dataset reference; throws on anything else. */
export function parseDatasetId(text: string): { zone: VersionedZone; dataset: string } {
  const match = TARGET.exec(text);
  if (!match)
    throw new ConfigError(
      `invalid dataset '${text}': write <zone>.<dataset> with zone staging or curated, e.g. curated.prices`,
    );
  return { zone: match[1] as VersionedZone, dataset: match[2]! };
}

export async function compactDataset(
  lake: Lake,
  project: Project | undefined,
  id: string,
): Promise<CompactResult> {
  const ref = parseDatasetId(id);
  const model = project?.models.find((m) => m.zone === ref.zone && m.dataset === ref.dataset);
  const settings = model?.settings ?? {};
  const fileRows = settings.fileRows ?? (settings.incremental ? DEFAULT_INCREMENTAL_FILE_ROWS : undefined);
  return compact(lake, ref, {
    ...(settings.orderBy && { orderBy: settings.orderBy }),
    ...(settings.partitionBy && { partitionBy: settings.partitionBy }),
    ...(fileRows && { fileRows }),
    ...(settings.rowGroupSize && { rowGroupSize: settings.rowGroupSize }),
  });
}
