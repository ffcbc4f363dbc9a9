/** `lakebook ls` (`dag`): the project's sources, models, datasets and pages with their links. */
import { configFromEnv } from "../../config.ts";
import { createLake } from "../../lake/index.ts";
import { listProject, loadProject } from "../../project/index.ts";
import { createOutput, parseCommandArgs } from "./lakeOutput.ts";

const USAGE = `Usage: lakebook ls [--json]     (also: lakebook dag)

Every source, model, dataset and page of the project with its upstream and downstream, current
version, last run and quality status.
`;

export async function ls(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseCommandArgs("ls", options.args ?? [], {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help || positionals.length > 0) {
    process.stdout.write(USAGE);
    return;
  }
  const config = configFromEnv();
  const out = createOutput(values.json === true);
  const project = await loadProject(config.root);
  const entries = await listProject(project, createLake(config), config);
  out.result({ entries }, () => {
    for (const e of entries) {
      const state =
        e.version === undefined
          ? "no version"
          : `v${e.version}, ${e.rows} rows, quality ${e.quality ?? "none"}`;
      const last = e.lastRun ? `, last run ${e.lastRun.at} ${e.lastRun.status}` : "";
      out.print(`${e.kind.padEnd(7)} ${e.id}  (${e.kind === "page" ? e.file : state + last})`);
      if (e.upstream.length > 0) out.print(`          <- ${e.upstream.join(", ")}`);
      if (e.downstream.length > 0) out.print(`          -> ${e.downstream.join(", ")}`);
    }
  });
}
