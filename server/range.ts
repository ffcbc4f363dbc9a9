/**
 * `Range: bytes=...` parsing (RFC 9110 §14). Only the `bytes` unit exists here; anything the
 * parser does not understand is ignored, which means the full representation is sent (200).
 */

/** An inclusive byte range, as in `Content-Range: bytes start-end/size`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * - `undefined`: no usable Range header (absent, another unit, or malformed) -> send 200 full.
 * - `"unsatisfiable"`: well formed but no range overlaps the file -> 416.
 * - otherwise the satisfiable ranges, clamped to the file, in request order.
 */
export type ParsedRange = undefined | "unsatisfiable" | readonly ByteRange[];

const SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

export function parseRange(header: string | undefined, size: number): ParsedRange {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const ranges: ByteRange[] = [];
  let specs = 0;
  for (const part of match[1].split(",")) {
    const spec = part.trim();
    if (spec === "") continue;
    const m = SPEC.exec(spec);
    if (!m) return undefined;
    specs += 1;
    if (m[3] !== undefined) {
      const suffix = Number(m[3]);
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(m[1]);
    const end = m[2] === "" ? Infinity : Number(m[2]);
    if (end < start) return undefined;
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (specs === 0) return undefined;
  return ranges.length === 0 ? "unsatisfiable" : ranges;
}
