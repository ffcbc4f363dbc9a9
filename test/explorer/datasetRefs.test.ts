import { describe, expect, it } from "vitest";
import { resolveDatasetRefs } from "../../notebooks/components/datasetRefs.js";

const datasets = [
  { zone: "curated", dataset: "prices", version: 5 },
  { zone: "staging", dataset: "prices", version: 7 },
  { zone: "staging", dataset: "quotes", version: 2 },
];

describe("dataset references in explorer SQL", () => {
  it("rewrites qualified, versioned and bare references to a schema per version", () => {
    const { sql, refs } = resolveDatasetRefs(
      "SELECT prices.close FROM curated.prices@3 JOIN staging.prices p USING (date) JOIN quotes q ON true",
      datasets,
    );
    expect(sql).toBe(
      'SELECT prices.close FROM "curated@3"."prices" JOIN "staging@7"."prices" p USING (date) JOIN "staging@2"."quotes" q ON true',
    );
    expect(refs).toEqual([
      { zone: "curated", dataset: "prices", version: 3, explicit: true },
      { zone: "staging", dataset: "prices", version: 7, explicit: false },
      { zone: "staging", dataset: "quotes", version: 2, explicit: false },
    ]);
  });

  it("uses a pinned version for an unversioned reference, and curated for a bare name", () => {
    const { sql } = resolveDatasetRefs("select * from prices where ticker = 'curated.prices@9'", datasets, {
      "curated.prices": 4,
    });
    expect(sql).toBe(`select * from "curated@4"."prices" where ticker = 'curated.prices@9'`);
  });

  it("leaves comments, strings, columns named like datasets and other tables alone", () => {
    const text = "-- from prices\nSELECT prices FROM other /* join prices */ WHERE x = 'from prices'";
    expect(resolveDatasetRefs(text, datasets)).toEqual({ sql: text, refs: [], edits: [] });
  });

  it("refuses a dataset that is not readable with the same answer as a missing one", () => {
    expect(() => resolveDatasetRefs("SELECT * FROM curated.sales", datasets)).toThrow(
      "no dataset curated.sales that you may read",
    );
    expect(() => resolveDatasetRefs("SELECT * FROM curated.prices@x", datasets)).toThrow(
      "write a version number after '@'",
    );
  });
});
