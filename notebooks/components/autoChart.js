/**
 * A Plot chart chosen from a result's column kinds, with x / y / colour / mark pickers:
 * a date and a number give a time series (line), a text and a number bars, two numbers a
 * scatter, a lone number a histogram. Settings are plain data ({mark, x, y, color}) so the page
 * can keep them in the URL.
 */
import * as Plot from "npm:@observablehq/plot";
import { numeric } from "./resultGrid.js";

export const MARKS = ["auto", "line", "bar", "dot", "histogram", "none"];

/** The automatic settings for a result. */
export function chooseChart(columns, rows) {
  const of = (kind) => columns.filter((c) => c.kind === kind).map((c) => c.name);
  const numbers = of("number");
  const dates = of("date");
  const texts = of("string");
  const fewDistinct = texts.find((name) => new Set(rows.slice(0, 5000).map((r) => r[name])).size <= 12);
  const sample = rows.slice(0, 5000);
  const distinct = (name) => new Set(sample.map((r) => r[name])).size;
  // A time series needs several points per line; one row per group reads better as bars.
  const series = fewDistinct ? distinct(fewDistinct) : 1;
  if (dates.length && numbers.length && distinct(dates[0]) >= 3 && sample.length / series >= 3)
    return { mark: "line", x: dates[0], y: numbers[0], color: fewDistinct ?? "" };
  if (texts.length && numbers.length) return { mark: "bar", x: texts[0], y: numbers[0], color: "" };
  if (numbers.length >= 2) return { mark: "dot", x: numbers[0], y: numbers[1], color: fewDistinct ?? "" };
  if (numbers.length === 1) return { mark: "histogram", x: numbers[0], y: "", color: "" };
  return { mark: "none", x: "", y: "", color: "" };
}

function accessor(column) {
  if (!column) return undefined;
  if (column.kind === "number") return (d) => numeric(d[column.name]);
  if (column.kind === "date") return (d) => (d[column.name] == null ? null : new Date(d[column.name]));
  return (d) => d[column.name];
}

/** The chart for `settings` (mark "auto" resolved), or null when there is nothing to draw. */
export function drawChart(columns, rows, settings, width) {
  const auto = chooseChart(columns, rows);
  const mark = settings.mark && settings.mark !== "auto" ? settings.mark : auto.mark;
  const find = (name) => columns.find((c) => c.name === name);
  const x = find(settings.x || auto.x);
  const y = find(settings.y || auto.y);
  const color = find(settings.color === null ? "" : settings.color || auto.color);
  if (mark === "none" || !x) return null;
  const data = rows.length > 50_000 ? rows.filter((_, i) => i % Math.ceil(rows.length / 50_000) === 0) : rows;
  const fx = accessor(x);
  const fy = accessor(y);
  const stroke = color ? accessor(color) : undefined;
  const marks = [];
  if (mark === "histogram") marks.push(Plot.rectY(data, Plot.binX({ y: "count" }, { x: fx, fill: stroke })));
  else if (!y) return null;
  else if (mark === "line") marks.push(Plot.lineY(data, { x: fx, y: fy, stroke, sort: fx }));
  else if (mark === "bar")
    marks.push(Plot.barY(data, Plot.groupX({ y: "sum" }, { x: fx, y: fy, fill: stroke })));
  else marks.push(Plot.dot(data, { x: fx, y: fy, stroke, r: 2 }));
  marks.push(Plot.ruleY([0]));
  return Plot.plot({
    width,
    height: 320,
    marginLeft: 56,
    x: { label: x.name, ...(mark === "bar" && { tickRotate: data.length > 12 ? -30 : 0 }) },
    y: { label: mark === "histogram" ? "count" : y.name, grid: true },
    color: stroke ? { legend: true } : undefined,
    marks,
  });
}

/**
 * Pickers + chart. `onChange(settings)` fires on every picker change; call `update(rows)` when
 * the grid's facets change the rows.
 */
export function chartPanel(columns, rows, settings, onChange) {
  const panel = document.createElement("div");
  panel.className = "lb-chart";
  panel.dataset.testid = "chart-panel";
  const controls = document.createElement("div");
  controls.className = "lb-chart-controls";
  const figure = document.createElement("div");
  figure.dataset.testid = "chart";
  let current = { mark: "auto", x: "", y: "", color: "", ...settings };
  let data = rows;
  const picker = (key, label, options) => {
    const select = document.createElement("select");
    select.setAttribute("aria-label", label);
    select.dataset.testid = `chart-${key}`;
    for (const [value, text] of options)
      select.append(new Option(text, value, false, current[key] === value));
    select.addEventListener("change", () => {
      current = { ...current, [key]: select.value };
      onChange(current);
      draw();
    });
    const wrap = document.createElement("label");
    wrap.append(`${label} `, select);
    return wrap;
  };
  const names = [["", "auto"], ...columns.map((c) => [c.name, c.name])];
  controls.append(
    picker(
      "mark",
      "Mark",
      MARKS.map((m) => [m, m]),
    ),
    picker("x", "x", names),
    picker("y", "y", names),
    picker("color", "Colour", [["", "auto"], ["-", "none"], ...columns.map((c) => [c.name, c.name])]),
  );
  function draw() {
    const width = Math.max(280, Math.min(960, panel.clientWidth || document.body.clientWidth - 32));
    const color = current.color === "-" ? null : current.color || undefined;
    const chart = drawChart(columns, data, { ...current, color }, width);
    figure.replaceChildren(...(chart ? [chart] : []));
    figure.dataset.mark = chart
      ? current.mark === "auto"
        ? chooseChart(columns, data).mark
        : current.mark
      : "none";
  }
  panel.append(controls, figure);
  panel.update = (next) => {
    data = next;
    draw();
  };
  queueMicrotask(draw);
  return panel;
}
