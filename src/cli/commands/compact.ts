/**
 * `lakebook compact <zone>.<dataset>`: rewrites the dataset's current version into sorted files
 * (its model's order_by, partition_by, file_rows and row_group_size) as a new version with the
 * same rows. Runs and schedules name it `compact:<zone>.<dataset>`.
 */
import { configFromEnv } from "../../config.ts";
import { CliError } from "../../errors.ts";
import { createLake } from "../../lake/index.ts";
import { compactDataset, loadProject } from "../../project/index.ts";
import { createOutput, formatBytes, parseCommandArgs } from "./lakeOutput.ts";

const USAGE = `Usage: lakebook compact <zone>.<dataset> [--json]

Rewrites the dataset's current version into few sorted files, as a new version with the same
rows (after incremental runs have added files). Sort order, partitioning and file sizes come
from the dataset's model (models/<zone>/<dataset>.sql). A version that is already compact is
left as it is. Schedules and runs name it compact:<zone>.<dataset>.

Options:
  --json                print the result as JSON
`;

export async function compact(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseCommandArgs("compact", options.args ?? [], {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (positionals.length !== 1)
    throw new CliError(`usage: lakebook compact <zone>.<dataset>, e.g. 'lakebook compact curated.prices'`);
  const config = configFromEnv();
  const out = createOutput(values.json === true);
  const project = await loadProject(config.root);
  const id = positionals[0]!;
  out.progress(`compacting ${id}`);
  const result = await compactDataset(createLake(config), project, id);
  const { manifest } = result;
  out.result(
    {
      zone: manifest.zone,
      dataset: manifest.dataset,
      version: manifest.version,
      created: result.created,
      filesBefore: result.filesBefore,
      filesAfter: result.filesAfter,
      rowCount: manifest.rowCount,
      bytes: manifest.bytes,
    },
    () =>
      out.print(
        result.created
          ? `${manifest.zone}/${manifest.dataset} v${manifest.version}: ${result.filesBefore} file(s) compacted into ${result.filesAfter}, ${manifest.rowCount} rows, ${formatBytes(manifest.bytes)}`
          : `${manifest.zone}/${manifest.dataset} v${manifest.version} is already compact (${result.filesAfter} file(s))`,
      ),
  );
}
