/**
 * `lakebook ls` (`dag`): every source, model, other dataset in the lake and page, with its
 * upstream and downstream, current version, last run and quality status. A page's upstream is
 * read from its loaders: the datasets they name (`"curated.prices"`, or `"curated", "prices"`
 * as two arguments) in the files it attaches under `data/`.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative } from "node:path";
import { type Lake, listHeads, maybeHead } from "../lake/index.ts";
import { listRuns } from "../sources/index.ts";
import type { Project } from "./discover.ts";

export interface ListEntry {
  id: string;
  kind: "source" | "model" | "dataset" | "page";
  file?: string;
  description?: string;
  owner?: string;
  upstream: string[];
  downstream: string[];
  version?: number;
  rows?: number;
  /** When the current version was committed. */
  updatedAt?: string;
  lastRun?: { id: string; status: string; at: string };
  quality?: "pass" | "warn" | "fail" | "none";
}

const DATASET_NAME =
  /["'`](raw|staging|curated)\.([A-Za-z0-9_-]+)["'`]|["'`](raw|staging|curated)["'`]\s*,\s*["'`]([A-Za-z0-9_-]+)["'`]/g;
const ATTACHMENT = /["'`](?:\.\/)?data\/([A-Za-z0-9_./-]+)["'`]/g;

async function files(dir: string, ext: string[]): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && ext.includes(extname(e.name)) && !e.parentPath.includes(".observablehq"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function pageEntries(
  root: string,
  notebooksDir: string,
  loadersDir: string,
  known: Set<string>,
): Promise<ListEntry[]> {
  const loaders = new Map<string, string>();
  for (const path of await files(loadersDir, [".ts", ".js", ".mjs"])) {
    // A loader `market.json.ts` produces `market.json`.
    loaders.set(relative(loadersDir, path).replace(/\.(ts|js|mjs)$/, ""), path);
  }
  const pages: ListEntry[] = [];
  for (const path of await files(notebooksDir, [".md"])) {
    const text = await readFile(path, "utf8");
    const upstream = new Set<string>();
    for (const match of text.matchAll(ATTACHMENT)) {
      const loader = loaders.get(match[1]!);
      if (!loader) continue;
      for (const ref of (await readFile(loader, "utf8")).matchAll(DATASET_NAME)) {
        const id = ref[1] ? `${ref[1]}.${ref[2]}` : `${ref[3]}.${ref[4]}`;
        if (known.has(id)) upstream.add(id);
      }
    }
    const page =
      "/" +
      relative(notebooksDir, path)
        .replace(/\.md$/, "")
        .replace(/(^|\/)index$/, "");
    pages.push({
      id: `page:${page}`,
      kind: "page",
      file: relative(root, path),
      upstream: [...upstream].sort(),
      downstream: [],
    });
  }
  return pages;
}

export async function listProject(
  project: Project,
  lake: Lake,
  dirs: { notebooksDir: string; loadersDir: string },
): Promise<ListEntry[]> {
  const entries: ListEntry[] = [];
  for (const id of project.graph.order) {
    const node = project.graph.nodes.get(id)!;
    const settings = node.source?.definition ?? node.model?.settings;
    entries.push({
      id,
      kind: node.kind,
      file: node.file,
      ...(settings?.description && { description: settings.description }),
      ...(settings?.owner && { owner: settings.owner }),
      upstream: [...node.upstream],
      downstream: [...node.downstream],
    });
  }
  const projectIds = new Set(entries.map((e) => e.id));
  for (const zone of ["raw", "staging", "curated"] as const) {
    for (const head of await listHeads(lake.storage, zone)) {
      const id = `${zone}.${head.dataset}`;
      if (!projectIds.has(id)) entries.push({ id, kind: "dataset", upstream: [], downstream: [] });
    }
  }
  const byId = new Map(entries.map((e) => [e.id, e]));
  const pages = await pageEntries(project.root, dirs.notebooksDir, dirs.loadersDir, new Set(byId.keys()));
  for (const page of pages) for (const up of page.upstream) byId.get(up)!.downstream.push(page.id);
  for (const entry of entries) {
    const [zone, dataset] = [
      entry.id.slice(0, entry.id.indexOf(".")),
      entry.id.slice(entry.id.indexOf(".") + 1),
    ];
    const head = await maybeHead(lake.storage, zone as "raw", dataset);
    if (head) {
      entry.version = head.version;
      entry.rows = head.rowCount;
      entry.updatedAt = head.createdAt;
      entry.quality = head.quality?.status ?? "none";
    }
    const source = project.graph.nodes.get(entry.id)?.source;
    if (source) {
      const last = (await listRuns(lake.storage, source.name)).at(-1);
      if (last) entry.lastRun = { id: last.runId, status: last.status, at: last.endedAt };
    } else if (head && entry.kind === "model") {
      entry.lastRun = { id: head.writeId, status: "committed", at: head.createdAt };
    }
  }
  return [...entries, ...pages];
}
