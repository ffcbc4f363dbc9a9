/**
 * `lakebook run [selection]`: runs the project's sources and models in dependency order
 * (src/project/runProject.ts). Progress lines on a terminal, `--json` for machines; exit 1 when a
 * step failed or was blocked by its quality gate.
 */
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { createLake } from "../../lake/index.ts";
import { type StepResult, loadProject, runProject } from "../../project/index.ts";
import { createOutput, parseCommandArgs } from "./lakeOutput.ts";

const USAGE = `Usage: lakebook run [selection...] [--json] [--concurrency <n>]

Runs the project's sources (sources/*.ts) and models (models/<zone>/<dataset>.sql) in dependency
order. A model whose inputs are unchanged commits nothing; a failing step stops only its downstream.

Selection (several terms select their union; none selects everything):
  curated.prices        one dataset's source or model
  +curated.prices       with everything upstream
  raw.quotes+           with everything downstream
  staging.*             every model of a zone
  quotes                a source, by its name

Options:
  --concurrency <n>     independent steps run at once (default: the config's, 2)
  --json                print the result as JSON
`;

const SYMBOL: Record<StepResult["status"], string> = {
  committed: "new",
  unchanged: "unchanged",
  failed: "FAILED",
  blocked: "BLOCKED",
  skipped: "skipped",
};

export function describeStep(step: StepResult): string {
  const version = step.version === undefined ? "" : ` v${step.version} (${step.rows} rows)`;
  const rejected = step.rejected ? `, ${step.rejected} rejected` : "";
  const why = step.message ? `: ${step.message}` : "";
  return `${step.id}${version} ${SYMBOL[step.status]}${rejected}${why}`;
}

export async function run(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseCommandArgs("run", options.args ?? [], {
    json: { type: "boolean" },
    concurrency: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    throw new CliError(`--concurrency takes a whole number from 1, got '${values.concurrency}'`);
  const config = configFromEnv();
  const out = createOutput(values.json === true);
  const project = await loadProject(config.root);
  const selection = positionals.flatMap((p) => p.split(",")).filter(Boolean);
  const summary = await runProject(
    project,
    { lake: createLake(config), config },
    {
      selection,
      ...(concurrency !== undefined && { concurrency }),
      onEvent: (event) => {
        if (event.type === "start") out.progress(`${event.id} running`);
        else out.progress(describeStep(event.step));
      },
    },
  );
  out.result(summary, () => {
    if (summary.steps.length === 0) out.print("nothing to run: the project has no sources or models");
    for (const step of summary.steps) out.print(describeStep(step));
  });
  if (!summary.ok) {
    const bad = summary.steps.filter((s) => s.status === "failed" || s.status === "blocked").map((s) => s.id);
    throw new CliError(`${bad.length} step(s) did not complete: ${bad.join(", ")}`, { exitCode: 1 });
  }
}
