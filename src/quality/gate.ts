/**
 * The promotion gate: `qualityGate(lake, suite)` is a `PromotionStep.gate`. It validates the
 * candidate rows before anything is written and stores the run (results.ts):
 *
 * - any `fail` expectation failing throws QualityError: nothing is committed and the previous
 *   version stays current;
 * - expectations marked `quarantine: true` do not fail the gate: their failing rows are written
 *   to `<zone>/<dataset>/_quarantine/<writeId>.parquet` with a `_quarantine_reason` column, the
 *   other rows are validated again and promoted. Rows in = rows promoted + rows quarantined, or the
 *   gate refuses to go on.
 */
import { QualityError } from "../errors.ts";
import { type Lake, joinKey } from "../lake/index.ts";
import { type PromotionGate, writeParquet } from "../pipeline/index.ts";
import { flaggedQuery } from "./compile.ts";
import { type StoredValidation, validationKey, writeValidation } from "./results.ts";
import { type Suite, expectationName } from "./suite.ts";
import { type ValidationReport, summarize, validateRelation } from "./validate.ts";
import { referencedDatasets, referencedSchemas } from "./versionCheck.ts";
import { checkSuite } from "./check.ts";

export const QUARANTINE_REASON = "_quarantine_reason";

export function quarantineKey(zone: string, dataset: string, writeId: string): string {
  return joinKey(zone, dataset, "_quarantine", `${writeId}.parquet`);
}

export interface GateOptions {
  now?: () => Date;
}

export function qualityGate(lake: Lake, suite: Suite, options: GateOptions = {}): PromotionGate {
  const now = options.now ?? (() => new Date());
  return { reads: referencedDatasets(suite), check };
  async function check(candidate: Parameters<PromotionGate["check"]>[0]) {
    const { db, output } = candidate;
    if (output.zone !== suite.zone || output.dataset !== suite.dataset) {
      throw new QualityError(
        `suite ${suite.source} is for ${suite.zone}/${suite.dataset} but gates ${output.zone}/${output.dataset}: use the dataset's own suite`,
      );
    }
    await checkSuite(db, suite, candidate.schema, await referencedSchemas(lake, suite));
    const references = candidate.references;
    const base = {
      schema: candidate.schema,
      previousRowCount: candidate.previous?.rowCount ?? null,
      references,
      checked: true,
      now,
    };
    let report: ValidationReport = await validateRelation(db, suite, {
      ...base,
      relation: candidate.relation,
    });
    let query: string | undefined;
    let quarantine: StoredValidation["quarantine"] = null;

    const quarantined = suite.expectations.flatMap((e, i) =>
      e.quarantine && (report.results[i]?.unexpectedCount ?? 0) > 0 ? [i] : [],
    );
    if (quarantined.length > 0) {
      const names = quarantined.map((i) => expectationName(suite.expectations[i]!));
      const flagged = flaggedQuery(suite, quarantined, names, {
        relation: candidate.relation,
        schema: candidate.schema,
        references,
      });
      await db.run(`CREATE TEMP TABLE _lakebook_flagged AS ${flagged.sql}`, flagged.params.values);
      await db.run(
        `CREATE TEMP VIEW _lakebook_kept AS SELECT * EXCLUDE (_lakebook_reason) FROM _lakebook_flagged WHERE _lakebook_reason IS NULL`,
      );
      const key = quarantineKey(output.zone, output.dataset, candidate.writeId);
      const file = await writeParquet(
        db,
        lake,
        candidate.scratch,
        `SELECT * EXCLUDE (_lakebook_reason), _lakebook_reason AS ${QUARANTINE_REASON} FROM _lakebook_flagged WHERE _lakebook_reason IS NOT NULL`,
        key,
      );
      quarantine = { count: file.rows, key };
      const kept = await validateRelation(db, suite, { ...base, relation: "_lakebook_kept" });
      if (kept.rowCount + quarantine.count !== candidate.rowCount) {
        throw new QualityError(
          `quarantine of ${output.zone}/${output.dataset} lost rows: ${candidate.rowCount} in, ${kept.rowCount} kept + ${quarantine.count} quarantined; nothing was promoted, report this bug`,
        );
      }
      // Quarantined expectations keep the counts and samples of the rows they routed out.
      const results = kept.results.map((result, i) =>
        quarantined.includes(i)
          ? {
              ...result,
              quarantinedCount: report.results[i]!.unexpectedCount ?? 0,
              sampleRows: report.results[i]!.sampleRows,
            }
          : result,
      );
      report = summarize(results, kept.rowCount, report.runTimeMs + kept.runTimeMs, now());
      query = `SELECT * FROM _lakebook_kept`;
    }

    const validation: StoredValidation = {
      formatVersion: 1,
      runId: candidate.writeId,
      kind: "gate",
      zone: output.zone,
      dataset: output.dataset,
      suite: suite.source,
      writeId: candidate.writeId,
      version: (candidate.previous?.version ?? 0) + 1,
      quarantine,
      ...report,
    };
    const key = await writeValidation(lake, validation);
    if (report.status === "fail") {
      const failed = report.results.filter((r) => !r.success && r.severity === "fail");
      throw new QualityError(
        `${output.zone}/${output.dataset} failed its quality gate, version ${candidate.previous?.version ?? "none"} stays current: ` +
          failed.map((r) => `${r.expectation}${r.message ? ` (${r.message})` : ""}`).join("; ") +
          `; see ${key} or run 'lakebook validate ${output.zone}/${output.dataset}' after fixing the data or the suite`,
      );
    }
    return {
      ...(query && { query }),
      quality: { status: report.status, key: validationKey(output.zone, output.dataset, validation.runId) },
      written: quarantine ? [key, quarantine.key] : [key],
    };
  }
}
