/**
 * Lakebook's public API: what a project's sources, loaders and config import from "lakebook".
 * Everything else under src/ is internal and may change between versions.
 *
 * ```ts
 * // loaders/prices.json.ts
 * import { readDataset } from "lakebook";
 * const prices = await readDataset("curated.prices");
 * process.stdout.write(JSON.stringify(prices));
 * ```
 */
import { type Config, configFromEnv, strictFromEnv } from "./config.ts";
import { DataError } from "./errors.ts";
import { type Lake, type VersionedZone, createLake } from "./lake/index.ts";
import { type CheckedSnapshot, readCheckedSnapshot } from "./quality/index.ts";

export { defineSource, defineConfig } from "./project/index.ts";
export type {
  SourceDefinition,
  FileSourceDefinition,
  ApiSourceDefinition,
  HtmlSourceDefinition,
  BrowserSourceDefinition,
  PostgresSourceDefinition,
  ColumnsInput,
  ProjectConfigInput,
  ScheduleInput,
  ListEntry,
  RunSummary,
  StepResult,
} from "./project/index.ts";
export { loadProject, runProject, listProject } from "./project/index.ts";
export { configFromEnv, normalizeConfig, type Config } from "./config.ts";
export { LakebookError, DataError, QualityError, SourceError, ConfigError } from "./errors.ts";
export {
  createLake,
  buildCatalog,
  listHeads,
  type Lake,
  type Manifest,
  type VersionedZone,
} from "./lake/index.ts";
export {
  readSnapshot,
  describeVersion,
  withDb,
  parquetRelation,
  type Snapshot,
  type DatasetInfo,
} from "./pipeline/index.ts";
export { pathsFrom } from "./site/index.ts";
export {
  readCheckedSnapshot,
  qualityReport,
  type CheckedSnapshot,
  type SnapshotQuality,
} from "./quality/index.ts";
export {
  runApiSource,
  runHtmlSource,
  runBrowserSource,
  runPostgresSource,
  launchChromium,
  startSampleSite,
  sampleSourcesDir,
  listRuns,
} from "./sources/index.ts";

/** The lake of the current project (settings from the environment and `.env`, as the CLI reads them). */
export function openLake(config: Config = configFromEnv()): Lake {
  return createLake(config);
}

export interface ReadDatasetOptions {
  /** Fail when newer data failed its quality checks (default: `lakebook build --strict`). */
  strict?: boolean;
  /**
   * Only the rows whose columns equal these values (`{ ticker: "AAPL" }`, compared as text): a
   * page per entity reads its entity's rows, and its cached output is reused while those rows are
   * unchanged, even when other entities' rows changed.
   */
  where?: Readonly<Record<string, string>>;
  lake?: Lake;
}

/**
 * One dataset's rows with the version they come from and its quality status, by its name
 * (`curated.prices`): the newest version that did not fail its quality gate, with
 * `quality.warning` saying so when newer data failed. DECIMAL and BIGINT values are exact
 * strings, DATE values `YYYY-MM-DD`. For one exact version use `readSnapshot`.
 */
export async function readDataset(name: string, options: ReadDatasetOptions = {}): Promise<CheckedSnapshot> {
  const match = /^(raw|staging|curated)\.([A-Za-z0-9_-]{1,64})$/.exec(name);
  if (!match)
    throw new DataError(`invalid dataset name '${name}': write <zone>.<dataset>, e.g. curated.prices`);
  const lake = options.lake ?? openLake();
  const [zone, dataset] = [match[1] as VersionedZone, match[2]!];
  return readCheckedSnapshot(lake, zone, dataset, {
    strict: options.strict ?? strictFromEnv(),
    ...(options.where && { where: options.where }),
  });
}
