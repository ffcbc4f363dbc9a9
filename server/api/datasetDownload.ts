/**
 * `GET /api/datasets/:zone/:dataset/download?format=csv|parquet[&version=n]`: a whole dataset
 * version as one file, for readers who may read the dataset (the zones and rules of `/lake`:
 * curated for every reader, staging for analysts and admins; any other answer is a 404, as for a
 * missing dataset, so a restricted dataset cannot be probed).
 *
 * The file is written once per version by DuckDB in Node from the version's Parquet files
 * (`COPY ... TO`, CSV with a header or ZSTD Parquet) into `<lakeDir>/.cache/downloads/`, and
 * served from there with ranges and validators: a version never changes, so neither does its
 * file. Concurrent first requests share one export.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { z } from "zod";
import type { Config } from "../../src/config.ts";
import { isLakebookError } from "../../src/errors.ts";
import { createLake, maybeHead, readManifest, type Manifest } from "../../src/lake/index.ts";
import { quoteLiteral } from "../../src/pipeline/index.ts";
import { canReadDataset } from "../explorer/zones.ts";
import { sendStaticFile } from "../staticFile.ts";
import { notFound, type ApiRoute } from "./route.ts";
import * as s from "./schemas.ts";

export const downloadQuery = z
  .object({
    format: z.enum(["csv", "parquet"]),
    version: z.coerce.number().int().min(1).max(99_999_999).optional(),
  })
  .strict();

const CONTENT_TYPES = { csv: "text/csv; charset=utf-8", parquet: "application/vnd.apache.parquet" } as const;
const inFlight = new Map<string, Promise<string>>();

export const DATASET_DOWNLOAD_ROUTE: ApiRoute = {
  method: "get",
  path: "/datasets/:zone/:dataset/download",
  tag: "datasets",
  summary:
    "A whole dataset version (default: the current one) as one CSV (with a header) or Parquet file, for readers who may read it",
  capability: "read",
  params: s.datasetParams,
  query: downloadQuery,
  produces: "application/vnd.apache.parquet",
  async handler(ctx, { req, res, principal, params, query }) {
    const { zone, dataset } = params as { zone: "curated"; dataset: string };
    const { format, version } = query as z.infer<typeof downloadQuery>;
    const missing = notFound(`dataset ${zone}/${dataset}${version ? ` version ${version}` : ""}`);
    if (!(await canReadDataset(ctx.access, principal, zone, dataset))) throw missing;
    const storage = createLake(ctx.config).storage;
    let manifest: Manifest | undefined;
    try {
      manifest = version
        ? await readManifest(storage, zone, dataset, version)
        : await maybeHead(storage, zone, dataset);
    } catch (error) {
      if (isLakebookError(error) && error.code === "NOT_FOUND") throw missing;
      throw error;
    }
    if (!manifest) throw missing;
    const file = await exportOnce(ctx.config, manifest, format, () =>
      Promise.all(manifest.files.map((f) => storage.localPath(f.key))),
    );
    const name = `${zone}-${dataset}-v${manifest.version}.${format}`;
    await sendStaticFile(req, res, file, {
      cacheControl: "private, no-cache",
      contentType: CONTENT_TYPES[format],
      headers: {
        "Content-Disposition": `attachment; filename="${name.replace(/[^\w.-]/g, "_")}"`,
        "X-Lakebook-Version": String(manifest.version),
      },
    });
    return undefined;
  },
};

/** The export of `manifest` as `format`, written the first time it is asked for. */
async function exportOnce(
  config: Config,
  manifest: Manifest,
  format: "csv" | "parquet",
  sources: () => Promise<string[]>,
): Promise<string> {
  const file = join(
    config.lakeDir,
    ".cache",
    "downloads",
    manifest.zone,
    manifest.dataset,
    `${manifest.version}.${format}`,
  );
  const exists = await stat(file).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (exists) return file;
  let flight = inFlight.get(file);
  if (!flight) {
    flight = (async () => {
      const paths = await sources();
      await mkdir(dirname(file), { recursive: true });
      const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
      const instance = await DuckDBInstance.create(":memory:", {
        threads: "2",
        memory_limit: "1GB",
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
      });
      const connection = await instance.connect();
      try {
        await connection.run("SET TimeZone = 'UTC'");
        const options = format === "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
        await connection.run(
          `COPY (SELECT * FROM read_parquet([${paths.map(quoteLiteral).join(", ")}])) TO ${quoteLiteral(temp)} (${options})`,
        );
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
      return file;
    })().finally(() => inFlight.delete(file));
    inFlight.set(file, flight);
  }
  return flight;
}
