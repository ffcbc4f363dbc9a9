/**
 * Just enough PDF reading for tests of Chromium's printed PDFs (no pdftotext here): the page
 * count from the page tree and the document title from the Info dictionary, which Chromium
 * fills from the page's <title>.
 */
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
