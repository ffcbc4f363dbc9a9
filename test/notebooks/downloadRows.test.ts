import { tableFromArrays } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { prepare } from "../../notebooks/components/downloadRows.js";

describe("the rows behind a table or chart, as downloads write them", () => {
  it("infers each column's type from its values, skipping missing ones", () => {
    const { columns } = prepare([
      {
        id: 1,
        price: 2,
        day: new Date("2024-01-02T00:00:00Z"),
        at: new Date("2024-01-02T10:30:00Z"),
        ok: true,
      },
      { id: null, price: 2.5, day: new Date("2024-01-03T00:00:00Z"), at: undefined, ok: false, note: "x" },
    ]);
    expect(columns).toEqual([
      { name: "id", type: "BIGINT" },
      { name: "price", type: "DOUBLE" },
      { name: "day", type: "DATE" },
      { name: "at", type: "TIMESTAMP" },
      { name: "ok", type: "BOOLEAN" },
      { name: "note", type: "VARCHAR" },
    ]);
  });

  it("writes dates as ISO text, missing values as null and objects as JSON", () => {
    const { rows } = prepare([
      { day: new Date("2024-01-02T00:00:00Z"), at: new Date("2024-01-02T10:30:00.250Z"), tags: ["a", "b"] },
      { day: new Date(Number.NaN), at: null },
    ]);
    expect(rows).toEqual([
      { day: "2024-01-02", at: "2024-01-02 10:30:00.250", tags: '["a","b"]' },
      { day: null, at: null, tags: null },
    ]);
  });

  it("keeps the columns asked for, in their order, with the types given", () => {
    const { columns, rows } = prepare([{ ticker: "A", close: "1.2500", extra: 1 }], ["close", "ticker"], {
      close: "DECIMAL(18,4)",
    });
    expect(columns).toEqual([
      { name: "close", type: "DECIMAL(18,4)" },
      { name: "ticker", type: "VARCHAR" },
    ]);
    expect(rows).toEqual([{ close: "1.2500", ticker: "A" }]);
  });

  it("falls back to text when a column mixes kinds of values", () => {
    const { columns } = prepare([{ v: 1 }, { v: "two" }, { w: 1 }, { w: 1.5 }]);
    expect(columns).toEqual([
      { name: "v", type: "VARCHAR" },
      { name: "w", type: "DOUBLE" },
    ]);
  });

  it("reads an Arrow table's columns and rows", () => {
    const table = tableFromArrays({ ticker: ["A", "B"], volume: Float64Array.from([10, 20]) });
    const { columns, rows } = prepare(table);
    expect(columns.map((c) => c.name)).toEqual(["ticker", "volume"]);
    expect(rows).toEqual([
      { ticker: "A", volume: 10 },
      { ticker: "B", volume: 20 },
    ]);
  });
});
