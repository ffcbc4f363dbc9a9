/**
 * The model header's layout settings (`partition_by`, `incremental`, `file_rows`): parsed into
 * the promotion step, and refused with the file and line when they cannot work.
 */
import { describe, expect, it } from "vitest";
import { modelStep, parseJob, parseModel } from "../../src/project/index.ts";

const FILE = "models/curated/events.sql";
const parse = (text: string) => parseModel(text, FILE, "curated", "events");

describe("model settings", () => {
  it("turn partition_by, incremental and file_rows into the promotion step", () => {
    const model = parse(`-- ---
-- key: id
-- latest_by: [rev, _line]
-- order_by: [day, id]
-- partition_by: region
-- incremental: true
-- file_rows: 250000
-- ---
SELECT id, region, day, rev, _line FROM raw.events
`);
    expect(model.settings).toMatchObject({ partitionBy: ["region"], incremental: true, fileRows: 250000 });
    expect(modelStep(model)).toMatchObject({
      key: ["id"],
      latestBy: ["rev", "_line"],
      orderBy: ["day", "id"],
      partitionBy: ["region"],
      incremental: true,
      fileRows: 250000,
    });
    expect(modelStep(parse("SELECT 1 AS id FROM raw.events\n"))).not.toHaveProperty("incremental");
  });

  it("refuses settings that cannot work, with the file and line", () => {
    expect(() => parse("-- ---\n-- partition_by: 3\n-- ---\nSELECT 1 AS a FROM raw.events\n")).toThrow(
      /^models\/curated\/events\.sql:2: setting 'partition_by'/,
    );
    expect(() =>
      parse("-- ---\n-- key: id\n-- incremental: yes\n-- ---\nSELECT 1 AS id FROM raw.events\n"),
    ).toThrow(/^models\/curated\/events\.sql:3: setting 'incremental'/);
    expect(() => parse("-- ---\n-- file_rows: 0\n-- ---\nSELECT 1 AS a FROM raw.events\n")).toThrow(
      /^models\/curated\/events\.sql:2: setting 'file_rows'/,
    );
    expect(() =>
      parse("-- ---\n-- key: id\n-- incremental: true\n-- ---\nSELECT 1 AS id FROM raw.events\n"),
    ).toThrow(
      "models/curated/events.sql:3: incremental needs a key and latest_by, to merge new rows into the existing ones",
    );
    expect(() =>
      parse(
        "-- ---\n-- key: id\n-- latest_by: rev\n-- incremental: true\n-- ---\n" +
          "SELECT e.id, e.rev FROM raw.events e JOIN staging.people p ON p.id = e.id\n",
      ),
    ).toThrow(
      "models/curated/events.sql:4: an incremental model reads exactly one dataset, this one reads 2 (raw.events, staging.people): drop incremental or split the model",
    );
  });

  it("parses compact jobs and refuses a malformed dataset", () => {
    expect(parseJob("compact:curated.prices;build")).toEqual([
      { kind: "compact", dataset: "curated.prices" },
      { kind: "build" },
    ]);
    expect(() => parseJob("compact:prices")).toThrow(
      "invalid dataset 'prices': write <zone>.<dataset> with zone staging or curated, e.g. curated.prices",
    );
  });
});
