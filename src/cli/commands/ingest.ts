/**
 * `lakebook ingest <file> --source S --dataset D (--columns LIST | --spec FILE)`: lands a local
 * CSV file (bytes + provenance) and parses it into a new version of the raw dataset. Landing the
 * same bytes again adds nothing; malformed rows go to a rejects file with their line numbers.
 */
import { readFile } from "node:fs/promises";
import { CliError, DataError } from "../../errors.ts";
import { landLocalFile } from "../../lake/index.ts";
import {
  type CsvIngestSpec,
  checkCsvFile,
  ingestCsv,
  normalizeCsvSpec,
  normalizeDelimiter,
  parseColumnList,
} from "../../pipeline/index.ts";
import { createOutput, formatBytes, openLake, parseCommandArgs } from "./lakeOutput.ts";

const USAGE = `Usage: lakebook ingest <file.csv> --source <name> --dataset <name> (--columns <list> | --spec <file.json>)

Lands the file in landing/ and parses it into a new version of raw/<dataset>.

Options:
  --source <name>       where the file comes from (letters, digits, _ and -)
  --dataset <name>      the raw dataset to add it to
  --columns <list>      the columns, e.g. 'symbol:VARCHAR,date:DATE:%b %d %Y,price:DECIMAL(18,4)';
                        name?:TYPE allows empty values; types VARCHAR, DATE, BIGINT, DOUBLE,
                        TIMESTAMPTZ, DECIMAL(p,s); a third part is a DATE/TIMESTAMPTZ strptime format
  --spec <file.json>    the same as a file: {"columns": [{"name", "type", "format"?, "nullable"?, "round"?}],
                        "delimiter"?}; "round": true rounds a DECIMAL's extra decimal places instead of
                        rejecting the row
  --delimiter <c>       field separator (default ,)
  --source-run <id>     the source run that fetched the file, kept in the lineage
  --json                print the result as JSON
`;

export async function ingest(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseCommandArgs("ingest", options.args ?? [], {
    source: { type: "string" },
    dataset: { type: "string" },
    columns: { type: "string" },
    spec: { type: "string" },
    delimiter: { type: "string" },
    "source-run": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [file, extra] = positionals;
  if (file === undefined)
    throw new CliError("ingest needs a file: lakebook ingest <file.csv> --source S --dataset D ...");
  if (extra !== undefined) throw new CliError(`unexpected argument '${extra}': ingest takes one file`);
  if (!values.source) throw new CliError("ingest needs --source <name>: where the file comes from");
  const spec = await readSpec(values);
  const out = createOutput(values.json === true);
  const lake = openLake();

  // A file refused as a whole (empty, binary, no data rows, wrong columns) is refused before it
  // lands, so the lake is left unchanged.
  await checkCsvFile(file, spec, file).catch((error: unknown) => {
    if (
      (error as NodeJS.ErrnoException).code === "ENOENT" ||
      (error as NodeJS.ErrnoException).code === "EISDIR"
    )
      return; // landLocalFile says what is wrong with the path.
    throw error;
  });
  out.progress(`landing ${file} in ${lake.storage.location}`);
  const landing = await landLocalFile(lake, { source: values.source, path: file });
  out.progress(
    landing.created
      ? `landed ${formatBytes(landing.record.bytes)} as ${landing.record.key}`
      : `these bytes were landed before (${landing.record.fetchedAt})`,
  );
  out.progress(`parsing into raw/${spec.dataset}`);
  const result = await ingestCsv(lake, landing.record, spec, {
    ...(values["source-run"] && { sourceRun: values["source-run"] }),
  });
  const { manifest } = result;
  out.result(
    {
      landing: { ...landing.record, created: landing.created },
      raw: {
        zone: manifest.zone,
        dataset: manifest.dataset,
        version: manifest.version,
        created: result.created,
        rowCount: manifest.rowCount,
        bytes: manifest.bytes,
        rejected: result.rejected,
        rejectsKey: result.created ? manifest.rejects.key : null,
      },
    },
    () => {
      if (!result.created) {
        out.print(`raw/${manifest.dataset} v${manifest.version}: unchanged (this file was already ingested)`);
        return;
      }
      const added = manifest.files.find((f) => f.partition?.landing === landing.record.sha256)?.rows ?? 0;
      out.print(
        `raw/${manifest.dataset} v${manifest.version}: ${added} rows added, ${manifest.rowCount} in total, ${formatBytes(manifest.bytes)}`,
      );
      if (result.rejected > 0) {
        out.print(`${result.rejected} malformed rows rejected, with line numbers in ${manifest.rejects.key}`);
      }
    },
  );
}

async function readSpec(values: {
  dataset?: string;
  columns?: string;
  spec?: string;
  delimiter?: string;
}): Promise<CsvIngestSpec> {
  if (values.columns !== undefined && values.spec !== undefined) {
    throw new CliError("pass either --columns or --spec, not both");
  }
  let spec: CsvIngestSpec;
  if (values.spec !== undefined) {
    let text: string;
    try {
      text = await readFile(values.spec, "utf8");
    } catch (error) {
      throw new CliError(
        `cannot read the spec file ${values.spec}: ${(error as NodeJS.ErrnoException).code}`,
        {
          cause: error,
        },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new DataError(`the spec file ${values.spec} is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    spec = normalizeCsvSpec(json, values.dataset);
  } else if (values.columns !== undefined) {
    if (!values.dataset)
      throw new CliError("ingest needs --dataset <name>: the raw dataset to add the file to");
    spec = normalizeCsvSpec({ dataset: values.dataset, columns: parseColumnList(values.columns) });
  } else {
    throw new CliError(
      "ingest needs the file's columns: --columns 'name:TYPE,...' or --spec <file.json>; run 'lakebook ingest --help'",
    );
  }
  if (values.delimiter !== undefined) {
    try {
      spec = { ...spec, delimiter: normalizeDelimiter(values.delimiter) };
    } catch (error) {
      throw new CliError(`--delimiter: ${(error as Error).message}`, { cause: error });
    }
  }
  return spec;
}
