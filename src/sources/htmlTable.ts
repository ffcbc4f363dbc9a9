/**
 * Declarative extraction of rows from HTML with cheerio. A spec is either a table (`table`:
 * a selector; columns named after its header cells) or rows plus named column selectors
 * (`rows` and `columns`, each column a selector inside the row, optionally reading an
 * attribute). Text is whitespace-collapsed and trimmed; a missing cell is null.
 */
import { type CheerioAPI, load } from "cheerio";

export type ColumnSelector = string | { selector: string; attribute?: string };

export type TableSpec = { table: string } | { rows: string; columns: Record<string, ColumnSelector> };

export type Row = Record<string, string | null>;

export interface Extraction {
  rows: Row[];
  /** Why nothing was found, for the failure message; undefined when rows were found. */
  problem?: string;
}

const clean = (text: string) => text.replace(/\s+/g, " ").trim();

export function extractRows(html: string, spec: TableSpec): Extraction {
  const $ = load(html);
  return "table" in spec ? fromTable($, spec.table) : fromRows($, spec);
}

function fromTable($: CheerioAPI, selector: string): Extraction {
  const table = $(selector).first();
  if (table.length === 0) return { rows: [], problem: `no element matches the table selector '${selector}'` };
  const headerRow = table.find("thead tr").first().length
    ? table.find("thead tr").first()
    : table.find("tr").first();
  const names = headerRow
    .find("th, td")
    .toArray()
    .map((cell, index) => clean($(cell).text()) || `column_${index + 1}`);
  if (names.length === 0) return { rows: [], problem: `the table '${selector}' has no header row` };
  const bodyRows = table
    .find("tr")
    .toArray()
    .filter((row) => row !== headerRow.get(0) && $(row).find("td").length > 0);
  const rows = bodyRows.map((row) => {
    const cells = $(row).find("td").toArray();
    return Object.fromEntries(names.map((name, i) => [name, cells[i] ? clean($(cells[i]).text()) : null]));
  });
  return rows.length > 0 ? { rows } : { rows, problem: `the table '${selector}' has no data rows` };
}

function fromRows(
  $: CheerioAPI,
  spec: { rows: string; columns: Record<string, ColumnSelector> },
): Extraction {
  const found = $(spec.rows).toArray();
  if (found.length === 0) return { rows: [], problem: `no element matches the row selector '${spec.rows}'` };
  const rows = found.map((row) =>
    Object.fromEntries(
      Object.entries(spec.columns).map(([name, column]) => {
        const { selector, attribute } = typeof column === "string" ? { selector: column } : column;
        const cell = selector === "" || selector === ":scope" ? $(row) : $(row).find(selector).first();
        if (cell.length === 0) return [name, null];
        return [name, attribute ? (cell.attr(attribute) ?? null) : clean(cell.text())];
      }),
    ),
  );
  const empty = Object.entries(spec.columns).find(([name]) => rows.every((row) => row[name] === null));
  return empty
    ? {
        rows: [],
        problem: `the column selector '${JSON.stringify(empty[1])}' for '${empty[0]}' matches nothing in any row`,
      }
    : { rows };
}
