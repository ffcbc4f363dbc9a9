/**
 * The HTML source: fetches one page (robots.txt respected unless the spec opts out), decodes it
 * with its declared charset, extracts rows with declarative selectors, and lands the page's
 * bytes exactly as fetched. When the selectors find nothing — a changed layout, or an error
 * page served with 200 — the page is saved as a snapshot instead and the run fails saying where.
 */
import { SourceError } from "../errors.ts";
import { decodeText } from "./charset.ts";
import { type HttpOptions, httpGet } from "./httpClient.ts";
import { type Row, type TableSpec, extractRows } from "./htmlTable.ts";
import { assertRobotsAllow } from "./robots.ts";
import { type RunRecord, type SourceContext, runSource } from "./runs.ts";

export interface HtmlSourceSpec {
  source: string;
  url: string;
  extract: TableSpec;
  /** Default true: refuse URLs the site's robots.txt disallows. */
  respectRobots?: boolean;
  /** Overrides the charset the page declares (e.g. "windows-1252" for a page that lies). */
  encoding?: string;
  http?: Omit<HttpOptions, "logger" | "sleep">;
}

export interface HtmlSourceResult {
  rows: Row[];
  encoding: string;
  /** Landing key of the page's bytes. */
  key: string;
  /** False when the same bytes were landed before: nothing new in the lake. */
  created: boolean;
  run: RunRecord;
}

export async function runHtmlSource(context: SourceContext, spec: HtmlSourceSpec): Promise<HtmlSourceResult> {
  const { url, extract, respectRobots = true, encoding } = spec;
  const { result, record } = await runSource(
    context,
    { source: spec.source, kind: "html", parameters: { url, extract, respectRobots, encoding } },
    async (run) => {
      const http: HttpOptions = { ...spec.http, logger: run.logger, sleep: context.sleep };
      if (respectRobots) await assertRobotsAllow(url, http);
      const response = await httpGet(url, { accept: "text/html,application/xhtml+xml" }, http);
      const contentType = response.headers.get("content-type") ?? "text/html";
      if (response.status !== 200) {
        const key = await run.snapshot({ origin: url, data: response.body, extension: "html", contentType });
        throw new SourceError(
          `GET ${url} answered HTTP ${response.status}; the response is saved as snapshot ${key}`,
        );
      }
      const decoded = decodeText(
        response.body,
        encoding ? `text/html; charset=${encoding}` : contentType,
        url,
      );
      const extraction = extractRows(decoded.text, extract);
      if (extraction.problem) {
        const key = await run.snapshot({ origin: url, data: response.body, extension: "html", contentType });
        throw new SourceError(
          `extracting ${url} found no rows: ${extraction.problem} (the layout changed, or the site served an ` +
            `error page with status 200); the page is saved as snapshot ${key}: compare it with the selectors`,
        );
      }
      const landed = await run.land({ origin: url, data: response.body, extension: "html", contentType });
      run.addRows(extraction.rows.length);
      return {
        rows: extraction.rows,
        encoding: decoded.encoding,
        key: landed.record.key,
        created: landed.created,
      };
    },
  );
  return { ...result, run: record };
}
