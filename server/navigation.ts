/**
 * Navigation by permission: the parts of a built Framework page that point at other pages (the
 * sidebar's links and the pager's previous/next links) and the site's search index
 * (`_observablehq/minisearch.<hash>.json`), rewritten for one reader so they name only pages that
 * reader may read. The server filters them (not CSS): a page a reader may not read appears
 * nowhere in what that reader is sent, not even as a search term.
 *
 * Framework writes these links relative to the page (`./catalog`, `../finance/`), always as
 * `<li class="observablehq-link..."><a href="...">` in the sidebar and `<a rel="prev|next"
 * href="...">` in the footer's pager, so a few exact patterns find them without parsing the page.
 * Paths are compared as clean URL paths (`/finance`, `/dir/`), the form access rules use.
 */

const SIDEBAR_LINK = /\n?\s*<li class="observablehq-link[^"]*"><a href="([^"]*)"[^>]*>[\s\S]*?<\/a><\/li>/g;
const PAGER_LINK = /<a rel="(?:prev|next)" href="([^"]*)"><span>[\s\S]*?<\/span><\/a>/g;

/**
 * The clean URL path a link of the page at `pagePath` (`/`, `/catalog`, `/dir/page`) points at,
 * or undefined for a link off the site or to a fragment.
 */
export function linkTarget(href: string, pagePath: string): string | undefined {
  if (href.startsWith("#") || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("//")) return undefined;
  let path: string;
  try {
    path = decodeURI(new URL(href, `http://site${pagePath}`).pathname);
  } catch {
    return undefined;
  }
  if (path.endsWith(".html")) path = path.slice(0, -".html".length);
  if (path.endsWith("/index")) path = path.slice(0, -"index".length);
  return path;
}

/** The pages the sidebar and pager of `html` link to, as clean URL paths, without duplicates. */
export function navigationTargets(html: string, pagePath: string): string[] {
  const targets = new Set<string>();
  for (const pattern of [SIDEBAR_LINK, PAGER_LINK]) {
    for (const match of html.matchAll(pattern)) {
      const target = linkTarget(decodeHtml(match[1]!), pagePath);
      if (target !== undefined) targets.add(target);
    }
  }
  return [...targets].sort();
}

/** `html` without the sidebar and pager links to the `hidden` pages (clean URL paths). */
export function withoutHiddenLinks(html: string, pagePath: string, hidden: ReadonlySet<string>): string {
  if (hidden.size === 0) return html;
  const drop = (whole: string, href: string): string => {
    const target = linkTarget(decodeHtml(href), pagePath);
    return target !== undefined && hidden.has(target) ? "" : whole;
  };
  return html.replace(SIDEBAR_LINK, drop).replace(PAGER_LINK, drop);
}

/** MiniSearch's serialized index (version 2), as Framework writes it. */
interface SerializedIndex {
  documentCount: number;
  documentIds: Record<string, string>;
  fieldIds: Record<string, number>;
  fieldLength: Record<string, number[]>;
  averageFieldLength: number[];
  storedFields: Record<string, unknown>;
  index: [string, Record<string, Record<string, number>>][];
  [other: string]: unknown;
}

/** The document ids (clean URL paths such as `/catalog`, `/index`) of a serialized search index. */
export function searchDocumentIds(json: string): string[] {
  const parsed = JSON.parse(json) as Partial<SerializedIndex>;
  return Object.values(parsed.documentIds ?? {});
}

/** The clean URL path of a search document id: Framework ids a folder's index page `/dir/index`. */
export function searchDocumentPath(id: string): string {
  return id.endsWith("/index") ? id.slice(0, -"index".length) : id;
}

/**
 * The serialized index without the documents whose id `isHidden` says so: their ids, stored
 * titles, field lengths and every posting go, and terms left with no document are removed, so
 * nothing of a hidden page's text remains. An index without documents (`{}`, search off) is
 * returned as it is.
 */
export function withoutHiddenDocuments(json: string, isHidden: (id: string) => boolean): string {
  const parsed = JSON.parse(json) as SerializedIndex;
  if (!parsed.documentIds) return json;
  const dropped = new Set(
    Object.entries(parsed.documentIds)
      .filter(([, id]) => isHidden(id))
      .map(([shortId]) => shortId),
  );
  if (dropped.size === 0) return json;
  for (const shortId of dropped) {
    delete parsed.documentIds[shortId];
    delete parsed.storedFields[shortId];
    delete parsed.fieldLength[shortId];
  }
  parsed.index = parsed.index
    .map(([term, fields]): [string, Record<string, Record<string, number>>] => {
      const kept: Record<string, Record<string, number>> = {};
      for (const [fieldId, postings] of Object.entries(fields)) {
        const remaining = Object.fromEntries(
          Object.entries(postings).filter(([shortId]) => !dropped.has(shortId)),
        );
        if (Object.keys(remaining).length > 0) kept[fieldId] = remaining;
      }
      return [term, kept];
    })
    .filter(([, fields]) => Object.keys(fields).length > 0);
  const lengths = Object.values(parsed.fieldLength);
  parsed.documentCount = lengths.length;
  parsed.averageFieldLength = parsed.averageFieldLength.map((_, field) =>
    lengths.length === 0 ? 0 : lengths.reduce((sum, doc) => sum + (doc[field] ?? 0), 0) / lengths.length,
  );
  return JSON.stringify(parsed);
}

function decodeHtml(text: string): string {
  return text
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
