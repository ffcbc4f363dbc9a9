/**
 * The explorer's result grid: virtualised (only the rows in view are in the DOM, so 100k rows
 * scroll as smoothly as 100), sortable by clicking a header, with a summary per column (type,
 * nulls, distinct, min/max and a small histogram, like DuckDB's column explorer) and facets:
 * clicking a cell keeps only the rows with that value (Datasette-style; no SQL needed), and each
 * facet is a removable chip.
 */
const ROW_HEIGHT = 28;
const OVERSCAN = 10;

/** A row's value for sorting and charts: numbers as numbers (exact decimals arrive as text). */
export function numeric(value) {
  return value == null || value === "" ? null : typeof value === "number" ? value : Number(value);
}

function compare(kind) {
  if (kind === "number") return (a, b) => (numeric(a) ?? -Infinity) - (numeric(b) ?? -Infinity);
  return (a, b) =>
    a == null
      ? b == null
        ? 0
        : -1
      : b == null
        ? 1
        : String(a) < String(b)
          ? -1
          : String(a) > String(b)
            ? 1
            : 0;
}

/** Per-column summary: {kind, type, nulls, distinct, min, max, bins: number[]} */
export function summarize(column, rows) {
  let nulls = 0;
  const distinct = new Set();
  const values = [];
  for (const row of rows) {
    const v = row[column.name];
    if (v == null) nulls++;
    else {
      if (distinct.size <= 100_000) distinct.add(v);
      values.push(v);
    }
  }
  let min = null;
  let max = null;
  let bins = [];
  if (column.kind === "number") {
    const nums = values.map(numeric).filter((n) => Number.isFinite(n));
    if (nums.length) {
      min = nums.reduce((a, b) => (b < a ? b : a));
      max = nums.reduce((a, b) => (b > a ? b : a));
      bins = new Array(12).fill(0);
      const width = (max - min) / bins.length || 1;
      for (const n of nums) bins[Math.min(bins.length - 1, Math.floor((n - min) / width))]++;
    }
  } else if (values.length) {
    const cmp = compare(column.kind);
    min = values.reduce((a, b) => (cmp(b, a) < 0 ? b : a));
    max = values.reduce((a, b) => (cmp(b, a) > 0 ? b : a));
    const counts = new Map();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    bins = [...counts.values()].sort((a, b) => b - a).slice(0, 12);
  }
  return { kind: column.kind, type: column.type, nulls, distinct: distinct.size, min, max, bins };
}

function sparkline(bins) {
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${bins.length * 6} 20`);
  svg.setAttribute("class", "lb-spark");
  const top = Math.max(1, ...bins);
  bins.forEach((count, i) => {
    const rect = document.createElementNS(svgNS, "rect");
    const h = Math.max(count > 0 ? 1 : 0, (count / top) * 20);
    rect.setAttribute("x", String(i * 6));
    rect.setAttribute("y", String(20 - h));
    rect.setAttribute("width", "5");
    rect.setAttribute("height", String(h));
    svg.append(rect);
  });
  return svg;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

function display(value) {
  return value == null ? "" : String(value);
}

/**
 * Renders `result` ({columns, rows}) into a new element. `onFacets(facets)` is called when the
 * facets change (the page keeps them in the URL); `facets` starts the grid filtered.
 */
export function resultGrid(result, { facets = [], onFacets = () => {} } = {}) {
  const { columns } = result;
  let sort = null;
  let active = facets.filter((f) => columns.some((c) => c.name === f.column));
  let view = [];

  const chips = el("div", { className: "lb-facets", dataset: { testid: "facets" } });
  const summaryRow = el("div", {
    className: "lb-grid-row lb-grid-summary",
    dataset: { testid: "column-summary" },
  });
  const header = el("div", { className: "lb-grid-row lb-grid-head" });
  const spacer = el("div", { className: "lb-grid-spacer" });
  const body = el("div", { className: "lb-grid-body" });
  const scroller = el(
    "div",
    { className: "lb-grid-scroll", dataset: { testid: "grid" } },
    header,
    summaryRow,
    spacer,
  );
  spacer.append(body);
  const count = el("div", { className: "lb-grid-count", dataset: { testid: "grid-count" } });
  const root = el("div", { className: "lb-grid" }, chips, scroller, count);
  const template = columns.map(() => "minmax(7rem, 1fr)").join(" ");
  for (const row of [header, summaryRow]) row.style.gridTemplateColumns = template;

  columns.forEach((column, j) => {
    const button = el(
      "button",
      { type: "button", className: "lb-sort", title: `Sort by ${column.name}` },
      column.name,
    );
    button.dataset.column = column.name;
    button.addEventListener("click", () => {
      sort = sort?.index === j ? { index: j, dir: -sort.dir } : { index: j, dir: 1 };
      refresh();
    });
    header.append(el("div", { className: "lb-cell lb-head-cell" }, button));
  });

  function renderSummary() {
    summaryRow.replaceChildren(
      ...columns.map((column) => {
        const s = summarize(column, view);
        const cell = el(
          "div",
          { className: "lb-cell lb-summary-cell", title: `${column.type}` },
          el(
            "div",
            { className: "lb-summary-type" },
            `${column.kind} · ${s.distinct.toLocaleString("en-US")} distinct`,
          ),
          el("div", {}, `${s.nulls.toLocaleString("en-US")} null · ${display(s.min)} – ${display(s.max)}`),
          s.bins.length ? sparkline(s.bins) : null,
        );
        cell.dataset.column = column.name;
        cell.dataset.nulls = String(s.nulls);
        cell.dataset.distinct = String(s.distinct);
        return cell;
      }),
    );
  }

  function renderChips() {
    chips.replaceChildren(
      ...active.map((facet, i) => {
        const chip = el(
          "button",
          { type: "button", className: "lb-chip", title: "Remove this filter" },
          `${facet.column} = ${display(facet.value)} ×`,
        );
        chip.addEventListener("click", () => {
          active = active.filter((_, k) => k !== i);
          onFacets(active);
          refresh();
        });
        return chip;
      }),
    );
  }

  function renderRows() {
    const top = Math.max(0, Math.floor((scroller.scrollTop - spacer.offsetTop) / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((scroller.clientHeight || 600) / ROW_HEIGHT) + OVERSCAN * 2;
    const rows = view.slice(top, top + visible);
    body.style.transform = `translateY(${top * ROW_HEIGHT}px)`;
    body.replaceChildren(
      ...rows.map((row, k) => {
        const line = el("div", { className: "lb-grid-row", role: "row" });
        line.style.gridTemplateColumns = template;
        line.dataset.index = String(top + k);
        for (const column of columns) {
          const value = row[column.name];
          const cell = el(
            "div",
            { className: `lb-cell lb-${column.kind}`, title: "Click to filter on this value" },
            display(value),
          );
          cell.addEventListener("click", () => {
            active = [...active, { column: column.name, value }];
            onFacets(active);
            refresh();
          });
          line.append(cell);
        }
        return line;
      }),
    );
  }

  function refresh() {
    view = result.rows.filter((row) =>
      active.every((f) => row[f.column] === f.value || (row[f.column] == null && f.value == null)),
    );
    if (sort) {
      const column = columns[sort.index];
      const cmp = compare(column.kind);
      view = view.slice().sort((a, b) => sort.dir * cmp(a[column.name], b[column.name]));
    }
    for (const button of header.querySelectorAll("button.lb-sort")) {
      const j = columns.findIndex((c) => c.name === button.dataset.column);
      button.dataset.sort = sort?.index === j ? (sort.dir > 0 ? "asc" : "desc") : "";
    }
    spacer.style.height = `${view.length * ROW_HEIGHT}px`;
    count.textContent = `${view.length.toLocaleString("en-US")} of ${result.rows.length.toLocaleString("en-US")} rows`;
    count.dataset.rows = String(view.length);
    renderChips();
    renderSummary();
    renderRows();
    root.dispatchEvent(new CustomEvent("lb-view", { detail: view }));
  }

  scroller.addEventListener("scroll", () => requestAnimationFrame(renderRows), { passive: true });
  root.currentRows = () => view;
  queueMicrotask(refresh);
  return root;
}
