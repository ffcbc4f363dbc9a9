/**
 * The lake-wide quality report behind the Data quality notebook and the server: per dataset with
 * validation runs, the newest run in full and the history of all runs.
 */
import { type Lake, type VersionedZone, listDatasets, maybeHead } from "../lake/index.ts";
import {
  type StoredValidation,
  type ValidationSummary,
  latestValidation,
  qualityHistory,
} from "./results.ts";

export interface DatasetQuality {
  zone: VersionedZone;
  dataset: string;
  headVersion: number | null;
  latest: StoredValidation;
  history: ValidationSummary[];
}

export interface QualityReport {
  generatedAt: string;
  datasets: DatasetQuality[];
}

const ZONES: VersionedZone[] = ["raw", "staging", "curated"];

export async function qualityReport(lake: Lake, options: { now?: () => Date } = {}): Promise<QualityReport> {
  const datasets: DatasetQuality[] = [];
  for (const zone of ZONES) {
    for (const dataset of await listDatasets(lake.storage, zone)) {
      const latest = await latestValidation(lake, zone, dataset);
      if (!latest) continue;
      const head = await maybeHead(lake.storage, zone, dataset);
      datasets.push({
        zone,
        dataset,
        headVersion: head?.version ?? null,
        latest,
        history: await qualityHistory(lake, zone, dataset),
      });
    }
  }
  return { generatedAt: (options.now?.() ?? new Date()).toISOString(), datasets };
}
