/**
 * The explorer's dataset list and its notice for links pinned to older versions.
 */
import { html } from "npm:htl";

export function formatBytes(n) {
  if (n == null) return "?";
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The whole version as one file (GET /api/datasets/:zone/:dataset/download). */
export function wholeDataset(d, format) {
  return `/api/datasets/${encodeURIComponent(d.zone)}/${encodeURIComponent(d.dataset)}/download?format=${format}&version=${d.version}`;
}

/** One entry per readable dataset: schema, rows, bytes, version, quality, owner, lineage, download. */
export function datasetList(datasets) {
  if (datasets.length === 0)
    return html`<p data-testid="datasets" class="lb-datasets">No dataset you may read yet.</p>`;
  return html`<div class="lb-datasets" data-testid="datasets">
    ${datasets.map(
      (d) =>
        html`<details data-dataset="${d.zone}.${d.dataset}">
          <summary>
            <code>${d.zone}.${d.dataset}</code> · version ${d.version} · ${d.rowCount.toLocaleString("en-US")}
            rows · ${formatBytes(d.bytes)} · quality
            <span data-testid="quality">${d.quality ?? "not checked"}</span>${
              d.description ? html` · ${d.description}` : ""
            }
          </summary>
          <div>
            ${d.owner ? html`Owner: ${d.owner} · ` : ""}<a href="${d.lineage.href}">lineage</a
            >${d.lineage.inputs.map((i) => html` · from <code>${i.zone}.${i.dataset}@${i.version}</code>`)} ·
            download the whole dataset as
            <a href="${wholeDataset(d, "csv")}" download data-testid="download-dataset-csv">CSV</a> or
            <a href="${wholeDataset(d, "parquet")}" download data-testid="download-dataset-parquet"
              >Parquet</a
            >
            · its files
            ${d.files.map(
              (f, i) =>
                html`<a href="${f.url}" download data-testid="download"
                    >${d.files.length > 1 ? `part ${i + 1}` : "Parquet"}</a
                  >
                  (${formatBytes(f.size)}) `,
            )}
          </div>
          <div><code>${d.schema.map((c) => `${c.name} ${c.type}`).join(", ")}</code></div>
        </details>`,
    )}
  </div>`;
}

/**
 * For a result that read older versions than the current ones (a shared link opened after new
 * versions landed): a notice naming them and a button that reruns on the current versions.
 */
export function versionNotice(refs, datasets) {
  const current = new Map(datasets.map((d) => [`${d.zone}.${d.dataset}`, d.version]));
  const stale = refs.filter(
    (r) =>
      !r.explicit &&
      current.has(`${r.zone}.${r.dataset}`) &&
      current.get(`${r.zone}.${r.dataset}`) > r.version,
  );
  if (stale.length === 0) return { nodes: [], onUseCurrent() {} };
  const button = html`<button type="button" data-testid="use-current">
    Use the current version${stale.length > 1 ? "s" : ""}
  </button>`;
  const text = stale
    .map(
      (r) =>
        `${r.zone}.${r.dataset} version ${r.version} (version ${current.get(`${r.zone}.${r.dataset}`)} is current)`,
    )
    .join(", ");
  return {
    nodes: [html`<span>This link shows ${text}. </span>`, button],
    onUseCurrent(callback) {
      button.addEventListener("click", callback, { once: true });
    },
  };
}
