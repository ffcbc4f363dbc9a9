import { CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";
import { datasetCompletions } from "../../notebooks/components/sqlCompletions.js";

const datasets = [
  {
    zone: "curated",
    dataset: "prices",
    rowCount: 683,
    schema: [
      { name: "ticker", type: "VARCHAR" },
      { name: "close", type: "DOUBLE" },
    ],
  },
  { zone: "curated", dataset: "sales", rowCount: 1, schema: [{ name: "customer", type: "VARCHAR" }] },
  { zone: "staging", dataset: "quotes", rowCount: 9, schema: [{ name: "bid", type: "DOUBLE" }] },
];

/** The labels offered with the cursor at `|` (else the end), and where the completed word starts. */
function complete(text: string): { from: number; labels: string[] } | null {
  const cursor = text.includes("|") ? text.indexOf("|") : text.length;
  const state = EditorState.create({ doc: text.replace("|", "") });
  const result = datasetCompletions(datasets)(
    new CompletionContext(state, cursor, false),
  ) as CompletionResult | null;
  return result && { from: result.from, labels: result.options.map((o) => o.label) };
}

describe("completion of dataset and column names", () => {
  it("offers every dataset with its zone, and the columns of the datasets the query names", () => {
    const result = complete("SELECT cl| FROM curated.prices");
    expect(result?.labels).toEqual(
      expect.arrayContaining(["curated.prices", "curated.sales", "staging.quotes"]),
    );
    expect(result?.labels).toEqual(expect.arrayContaining(["ticker", "close"]));
    expect(result?.labels).not.toContain("customer");
  });

  it("completes a zone's datasets after 'curated.' and a dataset's columns after its name", () => {
    expect(complete("SELECT * FROM curated.")).toEqual({ from: 22, labels: ["prices", "sales"] });
    expect(complete("SELECT prices.")?.labels).toEqual(["ticker", "close"]);
    expect(complete("SELECT curated.prices@2.")?.labels).toEqual(["ticker", "close"]);
    expect(complete("SELECT unknown.")).toBeNull();
  });

  it("replaces the whole word typed so far, or the part after the zone", () => {
    expect(complete("SELECT * FROM cur")?.from).toBe("SELECT * FROM ".length);
    expect(complete("SELECT * FROM curated.pr")).toEqual({
      from: "SELECT * FROM curated.".length,
      labels: ["prices", "sales"],
    });
  });
});
