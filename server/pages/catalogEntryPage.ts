/**
 * `/catalog/<zone>/<dataset>` (`?version=N` for an older version): one dataset's catalog entry,
 * rendered on the server in the site's look (html.ts) with no script. It says what a page stamp's
 * "data: prices v3" stands for: schema, rows and size, the quality result of that version, where
 * its rows came from (upstream versions, landing files, source runs), the model SQL that made it,
 * every version, and a link that opens the Explorer on the dataset at that version.
 *
 * Access is the dataset's own (explorer/zones.ts): a reader who may not query the dataset in the
 * Explorer may not read its entry either. Raw and landing are never served.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Request, Response } from "express";
import type { Config } from "../../src/config.ts";
import { HttpError, isLakebookError } from "../../src/errors.ts";
import {
  createLake,
  listVersionSummaries,
  readAnyManifest,
  traceLineage,
  type Lineage,
  type Manifest,
  type VersionSummary,
  type VersionedZone,
} from "../../src/lake/index.ts";
import { loadModels } from "../../src/project/index.ts";
import { readValidation, type StoredValidation } from "../../src/quality/index.ts";
import type { AccessControl } from "../auth/accessControl.ts";
import { canReadDataset, isExplorerZone } from "../explorer/zones.ts";
import { principalOf, refusal } from "../middlewares/authenticate.ts";
import { escapeHtml, sendPage } from "./html.ts";

const DATASET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Versions listed on the page, newest first; older ones are in the API (`/api/datasets/...`). */
const LISTED_VERSIONS = 30;

/** The entry page's URL for a dataset version (what stamps and the explorer link to). */
export function catalogEntryHref(zone: string, dataset: string, version?: number): string {
  const base = `/catalog/${encodeURIComponent(zone)}/${encodeURIComponent(dataset)}`;
  return version === undefined ? base : `${base}?version=${version}`;
}

/**
 * The Explorer opened on a dataset version: the same fragment the Explorer writes for a share
 * link (notebooks/components/shareState.js: `q` the SQL, `v` the pinned versions).
 */
export function explorerHref(zone: string, dataset: string, version: number): string {
  const params = new URLSearchParams();
  params.set("q", `SELECT * FROM ${zone}.${dataset} LIMIT 100`);
  params.set("v", `${zone}.${dataset}@${version}`);
  return `/explorer#${params.toString()}`;
}

export function catalogEntryRoute(config: Config, access: AccessControl) {
  return async function catalogEntry(req: Request, res: Response): Promise<void> {
    const { zone, dataset } = req.params as { zone: string; dataset: string };
    const principal = principalOf(res);
    if (!isExplorerZone(zone) || !DATASET_NAME.test(dataset)) {
      throw new HttpError(
        404,
        `no catalog entry ${zone}/${dataset}: entries exist for curated and staging datasets`,
      );
    }
    if (!(await canReadDataset(access, principal, zone, dataset))) {
      if (!principal.user) {
        res.redirect(302, `/auth/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      throw refusal(principal, `read ${zone}/${dataset}`);
    }
    const lake = createLake(config);
    const summaries = await listVersionSummaries(lake.storage, zone, dataset);
    const live = summaries.filter((v) => v.status === "live");
    if (summaries.length === 0) throw new HttpError(404, `dataset ${zone}/${dataset} has no version yet`);
    const head = live.at(-1)?.version ?? null;
    const asked = req.query.version;
    const version = asked === undefined ? (head ?? summaries.at(-1)!.version) : Number(asked);
    if (!Number.isInteger(version) || !summaries.some((v) => v.version === version)) {
      throw new HttpError(
        404,
        `${zone}/${dataset} has no version ${String(asked)}: its versions are ${summaries[0]!.version} to ${summaries.at(-1)!.version}`,
      );
    }
    const manifest = await readAnyManifest(lake.storage, zone, dataset, version);
    const validation = await readValidation(lake, zone, dataset, version).catch((error: unknown) => {
      if (isLakebookError(error)) return undefined;
      throw error;
    });
    sendPage(res, {
      title: `${zone}/${dataset} v${version}`,
      body: renderCatalogEntry({
        manifest,
        head,
        versions: summaries.slice(-LISTED_VERSIONS).reverse(),
        olderVersions: Math.max(0, summaries.length - LISTED_VERSIONS),
        validation: validation ?? undefined,
        lineage: await traceLineage(lake.storage, manifest),
        model: await modelOf(config, zone, dataset),
      }),
    });
  };
}

interface EntryView {
  manifest: Manifest & { status: "live" | "archived" };
  /** The current version; null when every version is archived. */
  head: number | null;
  versions: VersionSummary[];
  lineage: Lineage;
  olderVersions: number;
  validation: StoredValidation | undefined;
  model: { file: string; sql: string; description: string | null; owner: string | null } | undefined;
}

/** The whole version as one file (api/datasetDownload.ts); archived versions are not served. */
function downloadLinks(m: Manifest): string {
  const base = `/api/datasets/${encodeURIComponent(m.zone)}/${encodeURIComponent(m.dataset)}/download?version=${m.version}&format=`;
  return (
    ` · download it as <a data-testid="download-dataset-csv" href="${escapeHtml(base)}csv" download>CSV</a>` +
    ` or <a data-testid="download-dataset-parquet" href="${escapeHtml(base)}parquet" download>Parquet</a>`
  );
}

function renderCatalogEntry(view: EntryView): string {
  const { manifest: m } = view;
  const name = `${m.zone}/${m.dataset}`;
  const current = m.version === view.head;
  const state = current
    ? "current version"
    : m.status === "archived"
      ? `archived (restore it with <code>lakebook lake restore ${escapeHtml(name)} ${m.version}</code>)`
      : `an older version (current: <a href="${catalogEntryHref(m.zone, m.dataset)}">v${view.head}</a>)`;
  const rows = m.rowCount.toLocaleString("en-US");
  return `<main data-page="catalog-entry">
<p class="muted"><a href="/">Home</a> · <a href="/catalog">Catalog</a></p>
<h1><code>${escapeHtml(name)}</code> v${m.version}</h1>
${view.model?.description ? `<p>${escapeHtml(view.model.description)}</p>` : ""}
<p class="muted" data-testid="entry-summary">${state} · committed ${escapeHtml(utc(m.createdAt))} UTC · <span data-testid="entry-rows">${rows}</span> rows · ${kib(m.bytes)}${view.model?.owner ? ` · owner ${escapeHtml(view.model.owner)}` : ""}</p>
<p><a data-testid="open-explorer" href="${escapeHtml(explorerHref(m.zone, m.dataset, m.version))}">Query it in the Explorer</a>${m.status === "live" ? downloadLinks(m) : ""} · <a href="/api/datasets/${escapeHtml(m.zone)}/${escapeHtml(m.dataset)}/versions/${m.version}">manifest (JSON)</a></p>
<h2>Schema</h2>
<div class="scroll"><table data-testid="entry-schema"><thead><tr><th>column</th><th>type</th></tr></thead><tbody>
${m.schema.map((c) => `<tr><td><code>${escapeHtml(c.name)}</code></td><td>${escapeHtml(c.type)}</td></tr>`).join("\n")}
</tbody></table></div>
<h2>Quality</h2>
${renderQuality(view.validation)}
<h2>Lineage</h2>
${renderLineage(view.lineage)}
<h2>Model</h2>
${
  view.model
    ? `<p class="muted"><code>${escapeHtml(view.model.file)}</code> (as in the project now; this version was made by the SQL of its run)</p><pre data-testid="entry-sql">${escapeHtml(view.model.sql)}</pre>`
    : `<p class="muted">No model file: the rows come from a source or an ingest.</p>`
}
<h2>Versions</h2>
<div class="scroll"><table data-testid="entry-versions"><thead><tr><th>version</th><th>committed (UTC)</th><th>rows</th><th>size</th><th>status</th></tr></thead><tbody>
${view.versions
  .map(
    (v) =>
      `<tr><td>${v.version === m.version ? `<strong>v${v.version}</strong>` : `<a href="${catalogEntryHref(m.zone, m.dataset, v.version)}">v${v.version}</a>`}${v.version === view.head ? " (current)" : ""}</td><td>${escapeHtml(utc(v.createdAt))}</td><td>${v.rowCount.toLocaleString("en-US")}</td><td>${kib(v.bytes)}</td><td>${v.status}</td></tr>`,
  )
  .join("\n")}
</tbody></table></div>
${view.olderVersions > 0 ? `<p class="muted">${view.olderVersions} older versions: see /api/datasets/${escapeHtml(m.zone)}/${escapeHtml(m.dataset)}/versions.</p>` : ""}
</main>`;
}

function renderQuality(validation: StoredValidation | undefined): string {
  if (!validation)
    return `<p data-testid="entry-quality">unchecked: no quality suite validated this version.</p>`;
  const results = validation.results
    .map(
      (r) =>
        `<tr><td>${r.success ? "pass" : r.severity === "fail" ? '<strong class="error">fail</strong>' : "warn"}</td><td><code>${escapeHtml(r.expectation)}</code></td><td>${r.unexpectedCount ?? ""}</td></tr>`,
    )
    .join("\n");
  return `<p data-testid="entry-quality"><strong>${escapeHtml(validation.status)}</strong> · validated ${escapeHtml(utc(validation.validatedAt))} UTC by <code>${escapeHtml(validation.suite)}</code>${validation.quarantine ? ` · ${validation.quarantine.count} rows quarantined` : ""}</p>
<div class="scroll"><table><thead><tr><th>result</th><th>expectation</th><th>unexpected rows</th></tr></thead><tbody>
${results}
</tbody></table></div>`;
}

function renderLineage(lineage: Lineage): string {
  const items: string[] = [];
  for (const input of lineage.upstream) {
    const label = `${escapeHtml(input.zone)}/${escapeHtml(input.dataset)} v${input.version}`;
    items.push(
      isExplorerZone(input.zone)
        ? `<li>from <a href="${catalogEntryHref(input.zone, input.dataset, input.version)}"><code>${label}</code></a></li>`
        : `<li>from <code>${label}</code></li>`,
    );
  }
  for (const landing of lineage.landing) {
    items.push(
      `<li>landing file <code>${escapeHtml(landing.key.split("/").at(-1)!.slice(0, 16))}…</code> from ${landing.origin ? `<code>${escapeHtml(landing.origin)}</code>` : "unknown origin"}${landing.fetchedAt ? `, fetched ${escapeHtml(utc(landing.fetchedAt))} UTC` : ""}</li>`,
    );
  }
  for (const run of lineage.sourceRuns) items.push(`<li>source run <code>${escapeHtml(run)}</code></li>`);
  return items.length === 0
    ? `<p class="muted">No recorded inputs.</p>`
    : `<ul data-testid="entry-lineage">${items.join("\n")}</ul>`;
}

/** The model file that makes the dataset, if the project has one (read as written, header too). */
async function modelOf(config: Config, zone: VersionedZone, dataset: string): Promise<EntryView["model"]> {
  try {
    const model = (await loadModels(config.root)).find((m) => m.id === `${zone}.${dataset}`);
    if (!model) return undefined;
    return {
      file: model.file,
      sql: await readFile(join(config.root, model.file), "utf8"),
      description: model.settings.description ?? null,
      owner: model.settings.owner ?? null,
    };
  } catch {
    return undefined; // a project whose models do not parse: `lakebook run` reports those
  }
}

function utc(iso: string): string {
  return iso.replace("T", " ").slice(0, 16);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
