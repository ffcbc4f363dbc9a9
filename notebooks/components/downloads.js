/**
 * CSV and Parquet downloads of the data behind a table or chart, made in the reader's browser.
 *
 *   import {downloads, table, figure} from "./components/downloads.js";
 *   display(table(rows, {name: "prices", columns: ["ticker", "date", "close"]}));   // Inputs.table + buttons
 *   display(figure(Plot.plot({...}), rows, {name: "prices"}));                       // a chart + buttons
 *   display(downloads(rows, {name: "prices", types: {close: "DECIMAL(18,4)"}}));    // the buttons alone
 *
 * `data` is an array of objects or an Apache Arrow table (its rows). Columns are `columns` when
 * given, else every key in the order first seen. Values are written as they are: numbers and
 * text as such, booleans, dates at midnight UTC as `YYYY-MM-DD` (type DATE), other dates as UTC
 * timestamps `YYYY-MM-DD HH:MM:SS.sss` (type TIMESTAMP), missing values empty (NULL).
 *
 * - CSV: RFC 4180, built by hand (quotes doubled; fields with a comma, quote or line break quoted).
 * - Parquet: written by DuckDB-WASM (the explorer's engine, served from this site), loaded on the
 *   first Parquet click only, so pages do not pay for it. Column types are inferred from the
 *   values (BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, VARCHAR) unless `types` names them, e.g.
 *   `{close: "DECIMAL(18,4)"}` to keep exact decimals given as text.
 *
 * Nothing is evaluated (no `new Function`, no eval): the pages' Content-Security-Policy allows none.
 * The buttons are not printed (the page's PDF snapshot hides `.lb-downloads`).
 */
import { html } from "npm:htl";
import * as Inputs from "npm:@observablehq/inputs";
import { prepare } from "./downloadRows.js";
import { download, toCsv, toParquet } from "./exportResult.js";

/** The buttons: "CSV" and "Parquet", named `<name>.csv` and `<name>.parquet`. */
export function downloads(data, { name = "data", columns, types = {} } = {}) {
  const fileName = String(name).replace(/[^\w.-]+/g, "_") || "data";
  const prepared = () => prepare(data, columns, types);
  const status = html`<span class="lb-downloads-status" role="status"></span>`;
  const csv = html`<button type="button" data-testid="download-csv" title="Download the data as CSV">
    CSV
  </button>`;
  const parquet = html`<button
    type="button"
    data-testid="download-parquet"
    title="Download the data as Parquet"
  >
    Parquet
  </button>`;
  csv.onclick = () => {
    const { columns: cols, rows } = prepared();
    download(`${fileName}.csv`, toCsv(cols, rows), "text/csv");
  };
  parquet.onclick = async () => {
    parquet.disabled = true;
    status.textContent = "preparing…";
    try {
      const { columns: cols, rows } = prepared();
      download(
        `${fileName}.parquet`,
        await toParquet(await sharedDuckDB(), cols, rows),
        "application/vnd.apache.parquet",
      );
      status.textContent = "";
    } catch (error) {
      status.textContent = `Parquet failed: ${error.message}`;
    } finally {
      parquet.disabled = false;
    }
  };
  return html`<div class="lb-downloads" data-testid="downloads" data-name="${fileName}">
    Download ${csv} ${parquet} ${status}
  </div>`;
}

/** Inputs.table of `data` with its downloads below (`downloads: false` to leave them out). */
export function table(data, options = {}) {
  const { name, types, downloads: offer = true, ...tableOptions } = options;
  const element = Inputs.table(data, tableOptions);
  if (!offer) return element;
  const columns = Array.isArray(tableOptions.columns) ? tableOptions.columns : undefined;
  return withButtons(element, downloads(data, { name, columns, types }));
}

/** A chart (any element) with the downloads of the data it draws below it. */
export function figure(chart, data, options = {}) {
  if (options.downloads === false) return chart;
  return withButtons(chart, downloads(data, options));
}

/** Keeps the wrapped element's value (an Inputs.table is a view: its selection stays readable). */
function withButtons(element, buttons) {
  const wrapper = html`<div class="lb-with-downloads">${element}${buttons}</div>`;
  Object.defineProperty(wrapper, "value", {
    get: () => element.value,
    set: (value) => {
      element.value = value;
    },
  });
  element.addEventListener("input", () => wrapper.dispatchEvent(new Event("input", { bubbles: false })));
  return wrapper;
}

let duckdb;
/** One DuckDB-WASM per page, started on the first Parquet download. */
function sharedDuckDB() {
  duckdb ??= import("./duckdb.js").then(({ openDuckDB }) => openDuckDB());
  duckdb.catch(() => (duckdb = undefined));
  return duckdb;
}
