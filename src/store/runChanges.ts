/**
 * Run changes announced with NOTIFY, so every process sharing the store can follow runs that
 * execute elsewhere. The statement that creates or updates a run, or appends a log line, also
 * notifies: the announcement is sent when that statement commits, never for a change rolled
 * back, and in commit order. The payload stays small (well under PostgreSQL's 8000 bytes): the
 * schema, the run id, the kind and the line number; listeners read the record or the lines
 * from the tables. NOTIFY channels are database-wide, so the schema tells stores that share a
 * database apart.
 */
import type { RunChange } from "./store.ts";

export const RUNS_CHANNEL = "lakebook_runs";

/**
 * `statement` (an INSERT or UPDATE ... RETURNING * of `runs` or `run_logs`) whose rows are also
 * announced. Only constants are put into the SQL text; the statement's values stay parameters.
 */
export function announced(statement: string, kind: RunChange["kind"]): string {
  const [runId, seq] = kind === "log" ? ["changed.run_id", "changed.seq"] : ["changed.id", "NULL"];
  return `WITH changed AS (${statement})
SELECT changed.*, pg_notify('${RUNS_CHANNEL}', json_build_object(
  'schema', current_schema(), 'run', ${runId}, 'kind', '${kind}', 'seq', ${seq})::text) AS announced
FROM changed`;
}

/** The change a payload announces for `schema`; undefined for other schemas and bad payloads. */
export function maybeRunChange(payload: string, schema: string): RunChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { schema: from, run, kind, seq } = value as Record<string, unknown>;
  if (from !== schema || typeof run !== "string" || (kind !== "run" && kind !== "log")) return undefined;
  return { runId: run, kind, seq: typeof seq === "number" ? seq : null };
}
