/**
 * The next raw version a landing makes, shared by CSV ingest (csvIngest.ts) and the other formats
 * (rawIngest.ts): the head's files of other landings plus the landing's new file, its rejects, and
 * the head's landing lineage with this landing's entry replaced. Computed against whichever head
 * the commit finds (src/lake/commit.ts), so a lost race rebases it.
 */
import type { ColumnSchema, DataFile, Manifest, ManifestDraft, Provenance } from "../lake/index.ts";

export interface RawVersionInput {
  /** The head the version follows (undefined: the first version). */
  readonly current: Manifest | undefined;
  readonly dataset: string;
  readonly writeId: string;
  readonly schema: ColumnSchema[];
  /** The landing's data file, replacing any file of the same landing in `current`. */
  readonly file: DataFile;
  readonly landing: Provenance;
  readonly rejectCount: number;
  /** Where the rejects were written (recorded only when there are some). */
  readonly rejectsKey: string;
  readonly sourceRun: string | null;
}

/** The head's data files that came from other landings than `landing`. */
export function filesOfOtherLandings(current: Manifest | undefined, landing: Provenance): DataFile[] {
  return current?.files.filter((f) => f.partition?.landing !== landing.sha256) ?? [];
}

export function nextRawVersion(input: RawVersionInput): ManifestDraft {
  const { current, landing } = input;
  const files: DataFile[] = [...filesOfOtherLandings(current, landing), input.file];
  return {
    zone: "raw",
    dataset: input.dataset,
    writeId: input.writeId,
    schema: input.schema,
    rowCount: files.reduce((sum, f) => sum + f.rows, 0),
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    files,
    rejects: { count: input.rejectCount, key: input.rejectCount > 0 ? input.rejectsKey : null },
    lineage: {
      inputs: [],
      landing: [
        ...(current?.lineage.landing.filter((l) => l.sha256 !== landing.sha256) ?? []),
        { key: landing.key, sha256: landing.sha256, source: landing.source },
      ],
    },
    sourceRun: input.sourceRun,
    quality: null,
  };
}
