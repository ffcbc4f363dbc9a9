/**
 * The PostgreSQL source: runs a parameterized query, streams the result through a server-side
 * cursor in batches (bounded memory whatever the result size) into a scratch CSV, and has DuckDB
 * convert that file to typed Parquet (see pgTypes.ts for the exact type mapping), which is
 * landed with its provenance. Identical results give identical Parquet bytes, so a re-run of an
 * unchanged query lands nothing new.
 *
 * Incremental extraction: with a watermark column, the query is wrapped as
 * `SELECT * FROM (<query>) WHERE <column> > $n ORDER BY <column>`, and the last row's value (in
 * PostgreSQL's own text form, so it round-trips exactly) is remembered in the lake after a
 * successful run. Rows that later arrive with a value equal to the watermark are not fetched:
 * use a strictly increasing column (a sequence, or updated_at with enough precision).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SourceError } from "../errors.ts";
import { quoteLiteral, withDb } from "../pipeline/index.ts";
import { createCsvWriter, csvReader } from "./csvChunks.ts";
import { type ColumnMapping, type PgField, castExpression, mapColumn } from "./pgTypes.ts";
import { redactParameters, type RunRecord, type SourceContext, runSource } from "./runs.ts";
import { maybeReadState, writeState } from "./state.ts";

export interface PostgresSourceSpec {
  source: string;
  /** postgres://user@host:port/db (a password in it is redacted from run records). */
  connectionString: string;
  /** SQL with $1, $2 ... placeholders; values in `params`, never concatenated. */
  query: string;
  params?: (string | number | boolean | null)[];
  /** Incremental extraction by this column of the query's result. */
  watermark?: { column: string; initial?: string };
  /** Rows fetched per round trip (default 2,000: larger batches mostly grow the JS heap). */
  batchSize?: number;
  /** Cancels the query on the server after this long. */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface PostgresSourceResult {
  rows: number;
  columns: ColumnMapping[];
  /** Columns whose type could not be mapped exactly and how they are stored instead. */
  notes: string[];
  /** Landing key of the Parquet file; undefined when an incremental run found no new rows. */
  key?: string;
  created: boolean;
  watermark?: string;
  run: RunRecord;
}

type WatermarkState = { column: string; value: string };

const pgIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const rawText = { getTypeParser: () => (value: string) => value };

export async function runPostgresSource(
  context: SourceContext,
  spec: PostgresSourceSpec,
): Promise<PostgresSourceResult> {
  const batchSize = spec.batchSize ?? 2_000;
  const { result, record } = await runSource(
    context,
    {
      source: spec.source,
      kind: "postgres",
      parameters: {
        connectionString: spec.connectionString,
        query: spec.query,
        params: spec.params ?? [],
        watermark: spec.watermark,
        batchSize,
      },
    },
    async (run) => {
      const storage = context.lake.storage;
      const previous = spec.watermark
        ? await maybeReadState<WatermarkState>(storage, spec.source, "watermark")
        : undefined;
      const from =
        previous?.column === spec.watermark?.column
          ? (previous?.value ?? spec.watermark?.initial)
          : spec.watermark?.initial;
      const { sql, params } = buildQuery(spec, from);
      const target = String(redactParameters(spec.connectionString)).replace(/^postgres(ql)?:\/\//, "");

      // Imported on first use: most builds never touch PostgreSQL.
      const [{ default: pg }, { default: Cursor }] = await Promise.all([import("pg"), import("pg-cursor")]);
      const client = new pg.Client({
        connectionString: spec.connectionString,
        connectionTimeoutMillis: spec.connectTimeoutMs ?? 10_000,
        application_name: "lakebook",
        statement_timeout: spec.statementTimeoutMs ?? 0,
      });
      // A connection lost mid-query fails the query in progress (its cursor read rejects); pg also
      // emits it as an 'error' event, which without a listener would crash the whole process.
      let connectionLost = false;
      client.on("error", () => {
        connectionLost = true;
      });
      try {
        await client.connect();
      } catch (error) {
        throw new SourceError(
          `cannot connect to PostgreSQL at ${target}: ${(error as Error).message || (error as { code?: string }).code}; ` +
            `start the server or fix the connection string (DATABASE_URL)`,
          { cause: error },
        );
      }
      const scratch = await context.lake.scratch();
      try {
        // Text output in UTC and ISO form: what DuckDB parses back exactly.
        await client.query(
          "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'",
        );
        const csvPath = join(scratch, "rows.csv");
        const csv = createCsvWriter(csvPath);
        let fields: PgField[] = [];
        let rows = 0;
        let last: (string | null)[] | undefined;
        const cursor = client.query(
          new Cursor<(string | null)[]>(sql, params, { rowMode: "array", types: rawText }),
        );
        try {
          for (;;) {
            const batch = await new Promise<(string | null)[][]>((resolve, reject) =>
              cursor.read(batchSize, (error, batchRows, queryResult) => {
                if (error) return reject(error);
                if (queryResult?.fields) fields = queryResult.fields as PgField[];
                resolve(batchRows);
              }),
            );
            if (batch.length === 0) break;
            await csv.writeRows(batch);
            rows += batch.length;
            last = batch[batch.length - 1];
          }
        } catch (error) {
          if (connectionLost) {
            throw new SourceError(
              `lost the connection to PostgreSQL at ${target} after ${rows} rows (${(error as { code?: string }).code ?? (error as Error).message}): nothing was landed; check the server and the network, then rerun`,
              { cause: error },
            );
          }
          throw queryError(error, target);
        } finally {
          // Closing waits for the server's answer, which never comes on a lost connection.
          if (!connectionLost) await cursor.close().catch(() => undefined);
          await csv.close();
        }
        run.addRows(rows);
        const columns = fields.map(mapColumn);
        const duplicate = columns.find((c, i) => columns.findIndex((d) => d.name === c.name) !== i);
        if (duplicate) {
          throw new SourceError(
            `the query returns two columns named '${duplicate.name}': give them distinct aliases`,
          );
        }
        const notes = columns.flatMap((c) => (c.note ? [c.note] : []));
        const watermarkIndex = spec.watermark
          ? columns.findIndex((c) => c.name === spec.watermark!.column)
          : -1;
        const watermark = watermarkIndex >= 0 && last ? (last[watermarkIndex] ?? undefined) : from;
        if (spec.watermark && rows === 0) return { rows, columns, notes, created: false, watermark };

        const parquetPath = join(scratch, "rows.parquet");
        await withDb(
          async (db) => {
            // DuckDB streams CSV -> Parquet and spills to the scratch folder instead of growing past
            // this; with 2,000-row cursor batches, 1M rows peak at ~105 MB over baseline.
            await db.run(`SET memory_limit = '128MB'`);
            await db.run(`SET temp_directory = ${quoteLiteral(join(scratch, "duckdb-tmp"))}`);
            const select = columns
              .map((c, i) => `${castExpression(c, `c${i}`)} AS ${pgIdentifier(c.name)}`)
              .join(", ");
            try {
              await db.run(
                `COPY (SELECT ${select} FROM ${csvReader(quoteLiteral(csvPath), columns.length)}) ` +
                  `TO ${quoteLiteral(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`,
              );
            } catch (error) {
              throw new SourceError(
                `converting the query result to Parquet failed: ${(error as Error).message.split("\n")[0]}; ` +
                  `if a value did not convert, cast that column to text in the query`,
                { cause: error },
              );
            }
          },
          { threads: 1 },
        );
        const landed = await run.land({
          origin: `postgresql://${target} ${spec.query}`,
          data: await readFile(parquetPath),
          extension: "parquet",
          contentType: "application/vnd.apache.parquet",
        });
        if (spec.watermark && watermark !== undefined) {
          await writeState(storage, spec.source, "watermark", {
            column: spec.watermark.column,
            value: watermark,
          });
        }
        return { rows, columns, notes, key: landed.record.key, created: landed.created, watermark };
      } finally {
        await context.lake.releaseScratch(scratch);
        await client.end().catch(() => undefined);
      }
    },
  );
  return { ...result, run: record };
}

function buildQuery(spec: PostgresSourceSpec, from: string | undefined): { sql: string; params: unknown[] } {
  const query = spec.query.trim().replace(/;\s*$/, "");
  const params: unknown[] = [...(spec.params ?? [])];
  if (!spec.watermark) return { sql: query, params };
  const column = pgIdentifier(spec.watermark.column);
  let where = "";
  if (from !== undefined) {
    params.push(from);
    where = ` WHERE lakebook_q.${column} > $${params.length}`;
  }
  return {
    sql: `SELECT * FROM (${query}) AS lakebook_q${where} ORDER BY lakebook_q.${column} ASC NULLS FIRST`,
    params,
  };
}

function queryError(error: unknown, target: string): SourceError {
  if (error instanceof SourceError) return error;
  const pgError = error as { message?: string; code?: string; position?: string };
  const detail = [
    pgError.code && `SQLSTATE ${pgError.code}`,
    pgError.position && `at character ${pgError.position}`,
  ]
    .filter(Boolean)
    .join(", ");
  return new SourceError(
    `PostgreSQL at ${target} rejected the query: ${pgError.message}${detail ? ` (${detail})` : ""}; fix the query`,
    { cause: error },
  );
}
