/**
 * Running a project source: the source lands its bytes (one recorded run, as every source does),
 * then each landing of this run is parsed into the source's raw dataset. A landing already in the
 * raw head (unchanged data: same bytes, same sha256) is not read again and commits nothing.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { Config } from "../config.ts";
import { ConfigError, SourceError } from "../errors.ts";
import { type Lake, type Provenance, maybeLanded } from "../lake/index.ts";
import type { Logger } from "../logger.ts";
import { type IngestResult, ingestCsv, ingestJson, ingestParquet, ingestRows } from "../pipeline/index.ts";
import {
  type RunRecord,
  type SourceContext,
  decodeText,
  extractRows,
  runApiSource,
  runBrowserSource,
  runHtmlSource,
  runPostgresSource,
  runSource,
  secretStoreFromConfig,
} from "../sources/index.ts";
import type { ProjectSource } from "./defineSource.ts";

export interface SourceStepResult {
  run: RunRecord;
  /** One per landing of the run, in landing order. */
  ingests: IngestResult[];
}

export interface SourceStepContext {
  lake: Lake;
  config: Config;
  root: string;
  logger?: Logger;
  now?: () => Date;
}

/** The landing record of a key `landing/source=<s>/date=<d>/<sha256>.<ext>`. */
async function provenanceOf(lake: Lake, key: string): Promise<Provenance> {
  const match = /^landing\/source=([^/]+)\/date=[^/]+\/([0-9a-f]{64})\.[a-z0-9]+$/.exec(key);
  const record = match ? await maybeLanded(lake.storage, match[1]!, match[2]!) : undefined;
  if (!record) throw new SourceError(`the landing record of ${key} is missing: run the source again`);
  return record;
}

function secrets(config: Config) {
  return config.secretKey ? secretStoreFromConfig(config) : undefined;
}

/** Lands a file source's bytes (a local file or a URL) as one recorded run. */
async function landFileSource(context: SourceContext, source: ProjectSource, root: string) {
  const definition = source.definition;
  if (definition.kind !== "file") throw new Error("not a file source");
  const extension = source.format === "ndjson" ? "ndjson" : source.format!;
  const contentType = {
    csv: "text/csv",
    json: "application/json",
    ndjson: "application/x-ndjson",
    parquet: "application/vnd.apache.parquet",
  }[source.format!];
  return runSource(
    context,
    {
      source: source.name,
      kind: "file",
      parameters: { path: definition.path, url: definition.url, format: source.format },
    },
    async (run) => {
      if (definition.url) {
        const response = await fetch(definition.url).catch((error: unknown) => {
          throw new SourceError(`GET ${definition.url} failed: ${(error as Error).message}`, {
            cause: error,
          });
        });
        if (!response.ok) throw new SourceError(`GET ${definition.url} answered HTTP ${response.status}`);
        const data = Buffer.from(await response.arrayBuffer());
        return run.land({ origin: definition.url, data, extension, contentType });
      }
      const path = isAbsolute(definition.path!) ? definition.path! : resolve(root, definition.path!);
      const data = await readFile(path).catch((error: NodeJS.ErrnoException) => {
        throw new SourceError(`cannot read ${path}: ${error.code ?? "error"}; check the source's path`, {
          cause: error,
        });
      });
      return run.land({ origin: `file://${path}`, data, extension, contentType });
    },
  );
}

export async function runSourceStep(
  context: SourceStepContext,
  source: ProjectSource,
): Promise<SourceStepResult> {
  const { lake, config } = context;
  const base: SourceContext = {
    lake,
    ...(context.logger && { logger: context.logger }),
    ...(context.now && { now: context.now }),
  };
  const definition = source.definition;
  const spec = { dataset: source.dataset, ...(source.columns && { columns: source.columns }) };
  const ingests: IngestResult[] = [];
  const each = async (keys: string[], ingest: (landing: Provenance) => Promise<IngestResult>) => {
    for (const key of keys) {
      const landing = await provenanceOf(lake, key);
      ingests.push(await ingest(landing));
    }
  };
  switch (definition.kind) {
    case "file": {
      const { record } = await landFileSource(base, source, context.root);
      const options = { sourceRun: record.runId };
      await each(record.landed, (landing) =>
        source.format === "csv"
          ? ingestCsv(
              lake,
              landing,
              {
                dataset: source.dataset,
                columns: source.columns!,
                ...(definition.delimiter && { delimiter: definition.delimiter }),
              },
              options,
            )
          : source.format === "parquet"
            ? ingestParquet(lake, landing, spec, options)
            : ingestJson(
                lake,
                landing,
                {
                  ...spec,
                  format: source.format as "json" | "ndjson",
                  ...(definition.itemsPath && { itemsPath: definition.itemsPath }),
                },
                options,
              ),
      );
      return { run: record, ingests };
    }
    case "api": {
      const { kind: _kind, dataset: _d, description: _x, owner: _o, columns: _c, ...rest } = definition;
      const { run } = await runApiSource(
        { ...base, secrets: secrets(config) },
        { ...rest, source: source.name },
      );
      await each(run.landed, (landing) =>
        ingestJson(
          lake,
          landing,
          { ...spec, format: "json", itemsPath: rest.itemsPath ?? "" },
          { sourceRun: run.runId },
        ),
      );
      return { run, ingests };
    }
    case "html": {
      const { kind: _kind, dataset: _d, description: _x, owner: _o, columns: _c, ...rest } = definition;
      const { run } = await runHtmlSource(base, { ...rest, source: source.name });
      await each(run.landed, (landing) =>
        ingestRows(
          lake,
          landing,
          spec,
          (bytes) => {
            const contentType = rest.encoding ? `text/html; charset=${rest.encoding}` : landing.contentType;
            return extractRows(decodeText(bytes, contentType, landing.key).text, rest.extract).rows;
          },
          { sourceRun: run.runId },
        ),
      );
      return { run, ingests };
    }
    case "browser": {
      const { kind: _kind, dataset: _d, description: _x, owner: _o, columns: _c, ...rest } = definition;
      if (!rest.extract.table)
        throw new ConfigError(
          `${source.file}: a browser source feeds raw from a rendered table: set extract.table`,
        );
      const result = await runBrowserSource(
        { ...base, secrets: secrets(config) },
        { ...rest, source: source.name },
      );
      // The extracted rows are landed under the page's URL; captured JSON responses are kept in landing only.
      const pageUrls = new Set(result.pages.map((page) => page.url));
      const keys: string[] = [];
      for (const key of result.run.landed)
        if (pageUrls.has((await provenanceOf(lake, key)).origin)) keys.push(key);
      await each(keys, (landing) =>
        ingestJson(lake, landing, { ...spec, format: "json" }, { sourceRun: result.run.runId }),
      );
      return { run: result.run, ingests };
    }
    case "postgres": {
      const {
        kind: _kind,
        dataset: _d,
        description: _x,
        owner: _o,
        columns: _c,
        connectionString,
        ...rest
      } = definition;
      const connection = connectionString ?? config.databaseUrl;
      if (!connection)
        throw new ConfigError(`${source.file}: no database to query: set connectionString or DATABASE_URL`);
      const result = await runPostgresSource(base, {
        ...rest,
        connectionString: connection,
        source: source.name,
      });
      if (result.key)
        await each([result.key], (landing) =>
          ingestParquet(lake, landing, spec, { sourceRun: result.run.runId }),
        );
      return { run: result.run, ingests };
    }
  }
}
