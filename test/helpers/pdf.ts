/**
 * Just enough PDF reading for tests of Chromium's printed PDFs (no pdftotext here): the page
 * count from the page tree and the document title from the Info dictionary, which Chromium
 * fills from the page's <title>.
 */
import { inflateSync } from "node:zlib";

export interface PdfFacts {
  readonly pages: number;
  readonly title: string | undefined;
}

export function readPdfFacts(bytes: Buffer): PdfFacts {
  if (bytes.subarray(0, 5).toString("latin1") !== "%PDF-") throw new Error("not a PDF: no %PDF- header");
  const text = bytes.toString("latin1");
  const counts = [...text.matchAll(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)/g)].map((m) => Number(m[1]));
  const pages =
    counts.length > 0 ? Math.max(...counts) : [...text.matchAll(/\/Type\s*\/Page\b(?!s)/g)].length;
  return { pages, title: pdfString(/\/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)/.exec(text)?.[1]) };
}

/** A PDF string object, literal `(...)` or hex `<...>`, PDFDocEncoding or UTF-16BE with a BOM. */
function pdfString(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  let bytes: Buffer;
  if (token.startsWith("<")) {
    bytes = Buffer.from(token.slice(1, -1).replace(/\s/g, ""), "hex");
  } else {
    const body = token
      .slice(1, -1)
      .replace(/\\([0-7]{1,3}|.)/g, (_, escaped: string) =>
        /^[0-7]/.test(escaped)
          ? String.fromCharCode(parseInt(escaped, 8))
          : (({ n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" } as Record<string, string>)[escaped] ?? escaped),
      );
    bytes = Buffer.from(body, "latin1");
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return bytes.subarray(2).swap16().toString("utf16le");
  return bytes.toString("latin1");
}

interface PdfObject {
  readonly dict: string;
  readonly stream?: Buffer;
}

/** Every `N 0 obj` with its dictionary and (inflated) stream. */
function pdfObjects(bytes: Buffer): Map<number, PdfObject> {
  const text = bytes.toString("latin1");
  const objects = new Map<number, PdfObject>();
  const header = /(\d+) 0 obj\s*/g;
  let match: RegExpExecArray | null;
  while ((match = header.exec(text))) {
    const start = header.lastIndex;
    const end = text.indexOf("endobj", start);
    const streamAt = text.indexOf("stream", start);
    if (streamAt === -1 || streamAt > end) {
      objects.set(Number(match[1]), { dict: text.slice(start, end) });
      continue;
    }
    const dict = text.slice(start, streamAt);
    const length = Number(/\/Length (\d+)/.exec(dict)?.[1] ?? 0);
    const dataStart = streamAt + "stream".length + (text[streamAt + 6] === "\r" ? 2 : 1);
    const raw = bytes.subarray(dataStart, dataStart + length);
    objects.set(Number(match[1]), { dict, stream: dict.includes("/FlateDecode") ? inflateSync(raw) : raw });
    header.lastIndex = dataStart + length;
  }
  return objects;
}

/** A ToUnicode CMap: glyph code (hex) -> text. */
function toUnicode(cmap: string): Map<string, string> {
  const map = new Map<string, string>();
  const utf16 = (hex: string) => Buffer.from(hex, "hex").swap16().toString("utf16le");
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, code, text] of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g))
      map.set(code!.toUpperCase(), utf16(text!));
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, from, to, first] of block[1]!.matchAll(
      /<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g,
    )) {
      const base = parseInt(first!, 16);
      for (let code = parseInt(from!, 16); code <= parseInt(to!, 16); code++) {
        const text = (base + code - parseInt(from!, 16)).toString(16).padStart(4, "0");
        map.set(code.toString(16).toUpperCase().padStart(from!.length, "0"), utf16(text));
      }
    }
  }
  return map;
}

/**
 * The text Chromium drew on each page, in drawing order, one text object (BT ... ET) per line:
 * each page's content streams decoded through the ToUnicode maps of the fonts they use.
 */
export function readPdfText(bytes: Buffer): string {
  const objects = pdfObjects(bytes);
  const lines: string[] = [];
  for (const object of objects.values()) {
    if (!/\/Type\s*\/Page\b(?!s)/.test(object.dict)) continue;
    const fonts = new Map<string, Map<string, string>>();
    const fontDict = /\/Font\s*<<([^>]*)>>/.exec(object.dict)?.[1] ?? "";
    for (const [, name, ref] of fontDict.matchAll(/\/([\w.-]+)\s+(\d+) 0 R/g)) {
      const unicodeRef = /\/ToUnicode (\d+) 0 R/.exec(objects.get(Number(ref))?.dict ?? "")?.[1];
      const cmap = objects.get(Number(unicodeRef))?.stream?.toString("latin1") ?? "";
      fonts.set(name!, toUnicode(cmap));
    }
    const contents = /\/Contents\s*(?:\[([^\]]*)\]|(\d+) 0 R)/.exec(object.dict);
    const refs = contents?.[1] ? [...contents[1].matchAll(/(\d+) 0 R/g)].map((m) => m[1]!) : [contents?.[2]];
    for (const ref of refs) {
      const content = objects.get(Number(ref))?.stream?.toString("latin1") ?? "";
      let font = new Map<string, string>();
      for (const block of content.matchAll(/BT([\s\S]*?)ET/g)) {
        let line = "";
        for (const [, fontName, hex] of block[1]!.matchAll(/\/([\w.-]+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>/g)) {
          if (fontName) font = fonts.get(fontName) ?? new Map();
          else
            for (let i = 0; i + 4 <= hex!.length; i += 4)
              line += font.get(hex!.slice(i, i + 4).toUpperCase()) ?? "";
        }
        if (line) lines.push(line);
      }
    }
  }
  return lines.join("\n");
}
