/**
 * The explorer's state in the URL (the fragment, so it never reaches a server log): the query,
 * the dataset versions it read, where it ran, the chart settings and the facets. Opening the link
 * reruns the same SQL over the same versions, so another reader with access sees the same rows.
 *
 *   /explorer#q=SELECT…&v=curated.prices@3&mark=line&x=date&y=close&color=ticker
 */
export function readState(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const pins = {};
  for (const item of (params.get("v") ?? "").split(",")) {
    const m = /^([a-z]+\.[A-Za-z0-9_-]+)@(\d+)$/.exec(item.trim());
    if (m) pins[m[1]] = Number(m[2]);
  }
  let facets = [];
  try {
    const parsed = JSON.parse(params.get("f") ?? "[]");
    if (Array.isArray(parsed)) facets = parsed.filter((f) => f && typeof f.column === "string");
  } catch {
    facets = [];
  }
  return {
    sql: params.get("q") ?? undefined,
    pins,
    where: ["local", "server"].includes(params.get("run")) ? params.get("run") : "auto",
    chart: {
      mark: params.get("mark") ?? "auto",
      x: params.get("x") ?? "",
      y: params.get("y") ?? "",
      color: params.get("color") ?? "",
    },
    facets,
  };
}

export function writeState({ sql, refs = [], where = "auto", chart = {}, facets = [] }) {
  const params = new URLSearchParams();
  params.set("q", sql);
  const versions = refs.map((r) => `${r.zone}.${r.dataset}@${r.version}`);
  if (versions.length) params.set("v", [...new Set(versions)].join(","));
  if (where !== "auto") params.set("run", where);
  for (const key of ["mark", "x", "y", "color"]) {
    if (chart[key] && !(key === "mark" && chart[key] === "auto")) params.set(key, chart[key]);
  }
  if (facets.length) params.set("f", JSON.stringify(facets));
  const hash = `#${params.toString()}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
  return `${location.origin}${location.pathname}${hash}`;
}
