/**
 * How a JSON API pages: by a cursor found in the body, by offset and limit, or by an RFC 8288
 * `Link: <...>; rel="next"` header. Each strategy maps the current page to the next URL.
 */
import { getPath } from "./jsonPath.ts";

export type Pagination =
  | { kind: "none" }
  /** `?<param>=<cursor>` with the cursor read from the body at `nextCursorPath`; stops when it is empty. */
  | { kind: "cursor"; param: string; nextCursorPath: string }
  /** `?<offsetParam>=n&<limitParam>=limit`; stops at a page shorter than `limit`. */
  | { kind: "offset"; offsetParam?: string; limitParam?: string; limit: number }
  | { kind: "link" };

export function firstPageUrl(url: string, pagination: Pagination): string {
  if (pagination.kind !== "offset") return url;
  const next = new URL(url);
  next.searchParams.set(pagination.offsetParam ?? "offset", "0");
  next.searchParams.set(pagination.limitParam ?? "limit", String(pagination.limit));
  return next.href;
}

export function nextPageUrl(
  pagination: Pagination,
  page: { url: string; body: unknown; items: unknown[]; link: string | null },
): string | undefined {
  switch (pagination.kind) {
    case "none":
      return undefined;
    case "cursor": {
      const cursor = getPath(page.body, pagination.nextCursorPath);
      if (cursor === undefined || cursor === null || cursor === "" || cursor === false) return undefined;
      const next = new URL(page.url);
      next.searchParams.set(pagination.param, String(cursor));
      return next.href;
    }
    case "offset": {
      if (page.items.length < pagination.limit) return undefined;
      const next = new URL(page.url);
      const param = pagination.offsetParam ?? "offset";
      next.searchParams.set(param, String(Number(next.searchParams.get(param) ?? 0) + page.items.length));
      return next.href;
    }
    case "link":
      return page.link ? parseNextLink(page.link, page.url) : undefined;
  }
}

/** The `rel="next"` target of a Link header, resolved against the page URL. */
export function parseNextLink(header: string, base: string): string | undefined {
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>(.*)/.exec(part.trim());
    if (match && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(match[2]!)) {
      return new URL(match[1]!, base).href;
    }
  }
  return undefined;
}
