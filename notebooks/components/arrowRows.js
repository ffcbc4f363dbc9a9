/**
 * Turns an Apache Arrow table from DuckDB-WASM into plain rows for display. DECIMAL columns come
 * back from Arrow as 128-bit integers with a scale; they are rendered as exact decimal strings
 * (never through a float), so a price reads the same in the explorer as in the lake.
 */
export function arrowToRows(table) {
  const fields = table.schema.fields;
  const columns = fields.map((f) => f.name);
  const converters = fields.map((f) => converterFor(f.type));
  const rows = [];
  for (let i = 0; i < table.numRows; ++i) {
    const source = table.get(i);
    const row = {};
    fields.forEach((field, j) => {
      const value = source?.[field.name];
      row[field.name] = value == null ? value : converters[j](value);
    });
    rows.push(row);
  }
  return { columns, rows };
}

function converterFor(type) {
  const name = String(type);
  if (type?.typeId === 7 || name.startsWith("Decimal"))
    return (value) => decimalToString(value, type.scale ?? 0);
  if (name.startsWith("Date")) return (value) => new Date(value).toISOString().slice(0, 10);
  if (name.startsWith("Timestamp")) return (value) => new Date(Number(value)).toISOString();
  if (typeof type?.bitWidth === "number" && type.bitWidth === 64)
    return (value) => (typeof value === "bigint" ? value.toString() : value);
  return (value) => value;
}

/** A 128-bit two's complement integer (four little-endian 32-bit words) with `scale` decimals. */
export function decimalToString(words, scale) {
  let big = 0n;
  if (typeof words === "bigint") big = words;
  else if (typeof words === "number") return words.toFixed(scale);
  else {
    for (let i = words.length - 1; i >= 0; --i) big = (big << 32n) | BigInt(words[i] >>> 0);
    const bits = BigInt(words.length * 32);
    if (big >> (bits - 1n)) big -= 1n << bits;
  }
  const negative = big < 0n;
  let digits = (negative ? -big : big).toString().padStart(scale + 1, "0");
  if (scale > 0) digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${digits}` : digits;
}
