/**
 * Completion of dataset and column names in explorer SQL (a CodeMirror completion source).
 *
 * - a word: `curated.prices` for every readable dataset (zone included, as the explorer reads it),
 *   and the columns of the datasets the query names (of every dataset when it names none);
 * - `curated.`: that zone's datasets;
 * - `prices.` or `curated.prices.` (or an alias's dataset is not known: no columns): its columns.
 */

const NAME = /[\w.@]*$/;

/** @param datasets [{zone, dataset, rowCount, schema: [{name, type}]}] */
export function datasetCompletions(datasets) {
  const byName = new Map();
  for (const d of datasets) {
    byName.set(`${d.zone}.${d.dataset}`, d);
    if (!byName.has(d.dataset)) byName.set(d.dataset, d);
  }
  const zones = new Set(datasets.map((d) => d.zone));

  const columnsOf = (list) => {
    const seen = new Map();
    for (const d of list)
      for (const column of d.schema ?? [])
        if (!seen.has(column.name))
          seen.set(column.name, {
            label: column.name,
            type: "property",
            detail: `${column.type} · ${d.dataset}`,
          });
    return [...seen.values()];
  };

  return function completeDatasets(context) {
    const word = context.matchBefore(NAME);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const text = word.text.replace(/@\d*/g, "");
    const dot = text.lastIndexOf(".");
    if (dot >= 0) {
      const qualifier = text.slice(0, dot).toLowerCase();
      const from = word.from + word.text.lastIndexOf(".") + 1;
      if (zones.has(qualifier)) {
        const options = datasets
          .filter((d) => d.zone === qualifier)
          .map((d) => ({ label: d.dataset, type: "class", detail: describe(d) }));
        return { from, options, validFor: /^\w*$/ };
      }
      const dataset = byName.get(qualifier);
      if (!dataset) return null;
      return { from, options: columnsOf([dataset]), validFor: /^\w*$/ };
    }
    const named = datasets.filter((d) => mentions(context.state.doc.toString(), d));
    const options = [
      ...datasets.map((d) => ({
        label: `${d.zone}.${d.dataset}`,
        type: "class",
        detail: describe(d),
        boost: 1,
      })),
      ...columnsOf(named.length > 0 ? named : datasets),
    ];
    return { from: word.from, options, validFor: /^[\w.]*$/ };
  };
}

function describe(d) {
  return d.rowCount === undefined ? d.zone : `${Number(d.rowCount).toLocaleString("en-US")} rows`;
}

/** Whether `sql` names dataset `d` (as zone.dataset or as a bare name). */
function mentions(sql, d) {
  return new RegExp(`(^|[^\\w.])(${d.zone}\\.)?${d.dataset}(?![\\w])`, "i").test(sql);
}
