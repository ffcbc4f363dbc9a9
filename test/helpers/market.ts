/**
 * This repository's own project (the market demo: sources/, models/, quality/) for tests that
 * need real data through every zone, with the test's lake, clock, input files and suites.
 */
import { join } from "node:path";
import { DataError, QualityError } from "../../src/errors.ts";
import { type Lake, type Manifest, maybeHead } from "../../src/lake/index.ts";
import type { CsvIngestSpec, PromotionStep } from "../../src/pipeline/index.ts";
import { normalizeConfig } from "../../src/config.ts";
import { type Project, loadProject, modelStep, runProject } from "../../src/project/index.ts";
import { REPO_ROOT } from "./cli.ts";

export function vegaDataPath(file: string): string {
  return join(REPO_ROOT, "node_modules", "vega-datasets", "data", file);
}

export interface MarketOptions {
  stocksPath?: string;
  sp500Path?: string;
  /** Where the quality suites are (the repository's quality/ by default). */
  suitesDir?: string;
  now?: Date;
}

/** The repository's project, with other input files or suites when given. */
export async function marketProject(options: MarketOptions = {}): Promise<Project> {
  const project = await loadProject(REPO_ROOT);
  const paths: Record<string, string | undefined> = {
    vega_stocks: options.stocksPath,
    vega_sp500: options.sp500Path,
  };
  const sources = project.sources.map((source) => {
    const path = paths[source.name];
    return path && source.definition.kind === "file"
      ? { ...source, definition: { ...source.definition, path } }
      : source;
  });
  const nodes = new Map(
    [...project.graph.nodes].map(([id, node]) => [
      id,
      node.source ? { ...node, source: sources.find((s) => s.name === node.source!.name)! } : node,
    ]),
  );
  return {
    ...project,
    sources,
    graph: { ...project.graph, nodes },
    ...(options.suitesDir && { suitesDir: options.suitesDir }),
  };
}

export interface MarketResult {
  curated: Manifest;
  staging: Manifest;
  /** Which steps committed a new version. */
  created: Record<"stocks" | "sp500" | "staging" | "curated", boolean>;
}

/** Runs the whole project into `lake`; a blocked gate throws QualityError, a failure DataError. */
export async function runMarketPipeline(lake: Lake, options: MarketOptions = {}): Promise<MarketResult> {
  const project = await marketProject(options);
  const config = normalizeConfig({ root: REPO_ROOT, lakeDir: lake.lakeDir });
  const now = options.now;
  const summary = await runProject(project, { lake, config }, { ...(now && { now: () => now }) });
  const bad = summary.steps.find((s) => s.status === "blocked" || s.status === "failed");
  if (bad) throw bad.status === "blocked" ? new QualityError(bad.message!) : new DataError(bad.message!);
  const status = (id: string) => summary.steps.find((s) => s.id === id)!.status === "committed";
  return {
    curated: (await maybeHead(lake.storage, "curated", "prices"))!,
    staging: (await maybeHead(lake.storage, "staging", "prices"))!,
    created: {
      stocks: status("raw.vega_stocks"),
      sp500: status("raw.vega_sp500"),
      staging: status("staging.prices"),
      curated: status("curated.prices"),
    },
  };
}

/** The market's promotion steps, staging then curated (without gates). */
export async function marketSteps(): Promise<[PromotionStep, PromotionStep]> {
  const project = await loadProject(REPO_ROOT);
  const model = (id: string) => project.models.find((m) => m.id === id)!;
  return [modelStep(model("staging.prices")), modelStep(model("curated.prices"))];
}

/** How raw/vega_stocks parses stocks.csv. */
export async function stocksSpec(): Promise<CsvIngestSpec> {
  const source = (await loadProject(REPO_ROOT)).sources.find((s) => s.name === "vega_stocks")!;
  return { dataset: source.dataset, columns: source.columns! };
}
