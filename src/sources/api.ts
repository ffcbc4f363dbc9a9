/**
 * The JSON API source: GETs every page of a resource (cursor, offset or Link pagination), lands
 * each page's bytes exactly as fetched, and returns the items. Conditional requests: the ETag and
 * Last-Modified of every page URL are remembered (in the lake, after a successful run) and sent
 * back as If-None-Match / If-Modified-Since; a 304 reuses the landed copy, so an unchanged
 * resource is not fetched or landed again. A body that is not JSON — invalid JSON, or an HTML
 * error page served with 200 — is saved as a snapshot and fails the run.
 */
import { SourceError } from "../errors.ts";
import { maybeLanded } from "../lake/index.ts";
import { type HttpOptions, type HttpResponse, httpGet } from "./httpClient.ts";
import { getPath } from "./jsonPath.ts";
import { type Pagination, firstPageUrl, nextPageUrl } from "./pagination.ts";
import { type Run, type RunRecord, type SourceContext, runSource } from "./runs.ts";
import type { SecretStore } from "./secrets.ts";
import { maybeReadState, writeState } from "./state.ts";

export interface ApiSourceSpec {
  source: string;
  url: string;
  /** Where the array of items is in each page ("" when the page is the array). */
  itemsPath?: string;
  pagination?: Pagination;
  headers?: Record<string, string>;
  /** Header name -> name of a stored secret holding its value (e.g. authorization). */
  headerSecrets?: Record<string, string>;
  /** Stops with an error rather than looping forever on a cursor that never ends. */
  maxPages?: number;
  http?: Omit<HttpOptions, "logger" | "sleep">;
}

export interface ApiSourceResult {
  items: unknown[];
  pages: number;
  /** Pages answered 304 Not Modified and read from the lake. */
  notModified: number;
  /** Pages landed for the first time by this run. */
  created: number;
  run: RunRecord;
}

interface Validators {
  etag?: string;
  lastModified?: string;
  sha256: string;
  link?: string | null;
}

type HttpState = { pages: Record<string, Validators> };

export async function runApiSource(
  context: SourceContext & { secrets?: SecretStore },
  spec: ApiSourceSpec,
): Promise<ApiSourceResult> {
  const pagination = spec.pagination ?? { kind: "none" };
  const itemsPath = spec.itemsPath ?? "";
  const maxPages = spec.maxPages ?? 1000;
  const { result, record } = await runSource(
    context,
    {
      source: spec.source,
      kind: "api",
      parameters: {
        url: spec.url,
        itemsPath,
        pagination,
        headers: spec.headers,
        headerSecrets: spec.headerSecrets,
        maxPages,
      },
    },
    async (run) => {
      const storage = context.lake.storage;
      const previous = (await maybeReadState<HttpState>(storage, spec.source, "http")) ?? { pages: {} };
      const state: HttpState = { pages: {} };
      const headers = {
        accept: "application/json",
        ...spec.headers,
        ...(await secretHeaders(context, spec)),
      };
      const http: HttpOptions = { ...spec.http, logger: run.logger, sleep: context.sleep };
      const items: unknown[] = [];
      let pages = 0;
      let notModified = 0;
      let created = 0;
      for (let url: string | undefined = firstPageUrl(spec.url, pagination); url;) {
        if (pages >= maxPages) {
          throw new SourceError(
            `${spec.url} has more than ${maxPages} pages: raise maxPages or check the pagination`,
          );
        }
        const page = await fetchPage(context, run, url, headers, http, previous.pages[url]);
        pages += 1;
        if (page.notModified) notModified += 1;
        if (page.created) created += 1;
        state.pages[url] = page.validators;
        const pageItems = getPath(page.body, itemsPath);
        if (!Array.isArray(pageItems)) {
          const key = await run.snapshot(page.snapshotInput);
          throw new SourceError(
            `${url} has no array at '${itemsPath || "(the body)"}' (found ${describe(pageItems)}); ` +
              `the response is saved as snapshot ${key}: fix itemsPath or check the API`,
          );
        }
        items.push(...pageItems);
        run.addRows(pageItems.length);
        url = nextPageUrl(pagination, {
          url,
          body: page.body,
          items: pageItems,
          link: page.validators.link ?? null,
        });
      }
      await writeState(storage, spec.source, "http", state);
      return { items, pages, notModified, created };
    },
  );
  return { ...result, run: record };
}

async function secretHeaders(
  context: { secrets?: SecretStore },
  spec: ApiSourceSpec,
): Promise<Record<string, string>> {
  const entries = Object.entries(spec.headerSecrets ?? {});
  if (entries.length === 0) return {};
  if (!context.secrets) {
    throw new SourceError(
      `source '${spec.source}' needs stored secrets for its headers: pass a secret store`,
    );
  }
  const store = context.secrets;
  return Object.fromEntries(await Promise.all(entries.map(async ([h, name]) => [h, await store.get(name)])));
}

async function fetchPage(
  context: SourceContext,
  run: Run,
  url: string,
  headers: Record<string, string>,
  http: HttpOptions,
  known: Validators | undefined,
) {
  const storage = context.lake.storage;
  const landedBefore = known && (await maybeLanded(storage, run.source, known.sha256));
  const conditional: Record<string, string> = {};
  if (landedBefore && known.etag) conditional["if-none-match"] = known.etag;
  if (landedBefore && known.lastModified) conditional["if-modified-since"] = known.lastModified;
  const response = await httpGet(url, { ...headers, ...conditional }, http);
  const contentType = response.headers.get("content-type") ?? "application/octet-stream";
  const snapshotInput = { origin: url, data: response.body, extension: "txt", contentType };

  if (response.status === 304 && landedBefore && known) {
    const data = await storage.read(landedBefore.key);
    return {
      body: parse(data, url, "the landed copy " + landedBefore.key),
      notModified: true,
      created: false,
      validators: known,
      snapshotInput: { ...snapshotInput, data },
    };
  }
  if (response.status !== 200) {
    const key = await run.snapshot(snapshotInput);
    throw new SourceError(
      `GET ${url} answered HTTP ${response.status}; the response is saved as snapshot ${key}`,
    );
  }
  const body = await parseOrSnapshot(run, response, contentType);
  const landed = await run.land({ origin: url, data: response.body, extension: "json", contentType });
  return {
    body,
    notModified: false,
    created: landed.created,
    validators: {
      etag: response.headers.get("etag") ?? undefined,
      lastModified: response.headers.get("last-modified") ?? undefined,
      sha256: landed.record.sha256,
      link: response.headers.get("link"),
    },
    snapshotInput,
  };
}

async function parseOrSnapshot(run: Run, response: HttpResponse, contentType: string): Promise<unknown> {
  const looksHtml =
    /text\/html/i.test(contentType) || /^\s*<(!doctype|html)/i.test(response.body.subarray(0, 64).toString());
  if (looksHtml) {
    const key = await run.snapshot({
      origin: response.url,
      data: response.body,
      extension: "html",
      contentType,
    });
    throw new SourceError(
      `GET ${response.url} answered 200 with an HTML page (${contentType}) instead of JSON — an error or login ` +
        `page; the page is saved as snapshot ${key}`,
    );
  }
  try {
    return JSON.parse(response.body.toString("utf8"));
  } catch (error) {
    const key = await run.snapshot({
      origin: response.url,
      data: response.body,
      extension: "txt",
      contentType,
    });
    throw new SourceError(
      `GET ${response.url} returned invalid JSON (${(error as Error).message}); the body is saved as snapshot ${key}`,
      { cause: error },
    );
  }
}

function parse(data: Buffer, url: string, where: string): unknown {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch (error) {
    throw new SourceError(
      `${url}: ${where} is not valid JSON; delete the source's _state/http.json and run again`,
      {
        cause: error,
      },
    );
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
