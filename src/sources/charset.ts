/**
 * Decoding fetched text: the charset comes from the Content-Type header, else a byte order
 * mark, else a `<meta charset>` / `<meta http-equiv="Content-Type">` in the first 1024 bytes,
 * else UTF-8. Labels follow the WHATWG Encoding standard (so ISO-8859-1 decodes as
 * windows-1252, as browsers do).
 */
import { SourceError } from "../errors.ts";

export function charsetFromContentType(contentType: string | null | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "");
  return match?.[1]?.toLowerCase();
}

function sniffMetaCharset(body: Buffer): string | undefined {
  const head = body.subarray(0, 1024).toString("latin1");
  const meta =
    /<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)/i.exec(head) ??
    /<meta[^>]+content\s*=\s*["'][^"']*charset=([A-Za-z0-9_:.-]+)/i.exec(head);
  return meta?.[1]?.toLowerCase();
}

function sniffBom(body: Buffer): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return "utf-8";
  if (body[0] === 0xfe && body[1] === 0xff) return "utf-16be";
  if (body[0] === 0xff && body[1] === 0xfe) return "utf-16le";
  return undefined;
}

/** Decodes an HTML or text body; returns the text and the encoding used. */
export function decodeText(
  body: Buffer,
  contentType: string | null | undefined,
  where: string,
): { text: string; encoding: string } {
  const label = charsetFromContentType(contentType) ?? sniffBom(body) ?? sniffMetaCharset(body) ?? "utf-8";
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch (error) {
    throw new SourceError(
      `${where} declares the unknown charset '${label}': set the source's 'encoding' option to the real one`,
      { cause: error },
    );
  }
  if (decoder.encoding === "windows-1252")
    return { text: decodeWindows1252(body), encoding: decoder.encoding };
  return { text: decoder.decode(body), encoding: decoder.encoding };
}

// 0x80-0x9F in windows-1252 (0 = unassigned, kept as the C1 control). Node 20's TextDecoder
// decodes "windows-1252" (and so ISO-8859-1) as plain Latin-1, which turns € or “” into controls.
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
  0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0, 0x017e, 0x0178,
];

export function decodeWindows1252(body: Buffer): string {
  let text = "";
  for (let start = 0; start < body.length; start += 8192) {
    const chunk = body.subarray(start, start + 8192);
    text += String.fromCharCode(
      ...Array.from(chunk, (b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] || b : b)),
    );
  }
  return text;
}
