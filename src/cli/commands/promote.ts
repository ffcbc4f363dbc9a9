/**
 * `lakebook promote <pipeline>`: runs a named pipeline's promotion steps (DuckDB SQL between
 * zones) on the current versions of their inputs. A step whose output is already up to date
 * commits nothing.
 */
import { CliError } from "../../errors.ts";
import type { Lake } from "../../lake/index.ts";
import type { PromotionResult, PromotionStep } from "../../pipeline/index.ts";
import { createOutput, formatBytes, openLake, parseCommandArgs } from "./lakeOutput.ts";

type OnStep = (step: PromotionStep, result: PromotionResult) => void;

/** Named pipelines, each loaded only when run. */
const PIPELINES: Record<
  string,
  () => Promise<(lake: Lake, options: { onStep: OnStep }) => Promise<unknown>>
> = {
  market: async () => (await import("../../demo/marketPipeline.ts")).promoteMarket,
};

const USAGE = `Usage: lakebook promote <pipeline> [--json]

Runs the pipeline's promotion steps (raw -> staging -> curated) on the current input versions.

Pipelines:
  ${Object.keys(PIPELINES).join(", ")}

Options:
  --json                print the result as JSON
`;

export async function promote(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseCommandArgs("promote", options.args ?? [], {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [name, extra] = positionals;
  const load = name === undefined ? undefined : PIPELINES[name];
  if (!load) {
    throw new CliError(
      `${name === undefined ? "promote needs a pipeline name" : `unknown pipeline '${name}'`}: choose one of ${Object.keys(PIPELINES).join(", ")}`,
    );
  }
  if (extra !== undefined) throw new CliError(`unexpected argument '${extra}' for 'promote'`);
  const out = createOutput(values.json === true);
  const lake = openLake();
  const steps: {
    zone: string;
    dataset: string;
    version: number;
    created: boolean;
    rowCount: number;
    bytes: number;
  }[] = [];
  out.progress(`running pipeline ${name} on ${lake.storage.location}`);
  await (
    await load()
  )(lake, {
    onStep: (step, result) => {
      const { manifest } = result;
      steps.push({
        zone: manifest.zone,
        dataset: manifest.dataset,
        version: manifest.version,
        created: result.created,
        rowCount: manifest.rowCount,
        bytes: manifest.bytes,
      });
      out.progress(
        `${step.output.zone}/${step.output.dataset} ${result.created ? "committed" : "up to date"}`,
      );
    },
  });
  out.result({ pipeline: name, steps }, () => {
    for (const step of steps) {
      out.print(
        `${step.zone}/${step.dataset} v${step.version}: ${step.rowCount} rows, ${formatBytes(step.bytes)}` +
          (step.created ? " (new)" : " (unchanged)"),
      );
    }
  });
}
