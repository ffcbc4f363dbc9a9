/**
 * `lakebook promote [selection]`: runs the project's models (models/<zone>/<dataset>.sql) on the
 * current versions of their inputs, without running any source: raw is read as it is (e.g. after
 * `lakebook ingest`). A model whose output is already up to date commits nothing.
 */
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { createLake, maybeHead } from "../../lake/index.ts";
import { loadProject, runProject } from "../../project/index.ts";
import { createOutput, formatBytes, parseCommandArgs } from "./lakeOutput.ts";

const USAGE = `Usage: lakebook promote [selection...] [--json]

Runs the selected models (all when none is given) on the current versions of their inputs, in
dependency order, without running sources. Selection as for 'lakebook run' (e.g. +curated.prices).

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
  const config = configFromEnv();
  const out = createOutput(values.json === true);
  const lake = createLake(config);
  const project = await loadProject(config.root);
  out.progress(`promoting on ${lake.storage.location}`);
  const summary = await runProject(
    project,
    { lake, config },
    {
      selection: positionals,
      modelsOnly: true,
      onEvent: (event) => {
        if (event.type === "finish") out.progress(`${event.step.id} ${event.step.status}`);
      },
    },
  );
  const steps: {
    zone: string;
    dataset: string;
    status: string;
    created: boolean;
    version?: number;
    rowCount?: number;
    bytes?: number;
    message?: string;
  }[] = [];
  for (const step of summary.steps) {
    const node = project.graph.nodes.get(step.id)!;
    const manifest = await maybeHead(lake.storage, node.zone, node.dataset);
    steps.push({
      zone: node.zone,
      dataset: node.dataset,
      status: step.status,
      created: step.status === "committed",
      ...(manifest && { version: manifest.version, rowCount: manifest.rowCount, bytes: manifest.bytes }),
      ...(step.message && { message: step.message }),
    });
  }
  out.result({ selection: positionals, steps }, () => {
    for (const step of steps) {
      out.print(
        step.status === "committed" || step.status === "unchanged"
          ? `${step.zone}/${step.dataset} v${step.version}: ${step.rowCount} rows, ${formatBytes(step.bytes ?? 0)}` +
              (step.created ? " (new)" : " (unchanged)")
          : `${step.zone}/${step.dataset} ${step.status.toUpperCase()}: ${step.message}`,
      );
    }
  });
  if (!summary.ok) throw new CliError("a model did not complete (see above)", { exitCode: 1 });
}
