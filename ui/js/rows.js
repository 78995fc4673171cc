// rows.js: a result's first rows and columns as plain data for the page
// (what survives postMessage from the session worker to the main thread),
// and how a value, a column's type and the figures around a result are
// shown (the query page and the workspace alike).

/**
 * A value of an Arrow row as data that survives postMessage: Arrow's 64- and
 * 128-bit integers and decimals (typed arrays that print their digits) as
 * those digits, lists and structs as plain arrays and objects.
 */
export function plain(v) {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return String(v);
  if (typeof v.toJSON === 'function') return plain(v.toJSON());
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/**
 * Row i of an Arrow record batch as plain data (see plain).  A value Arrow
 * JS cannot convert (a timestamp of ±infinity: its milliseconds lie beyond
 * 2^53) becomes a note saying so, not the failure of the whole result.
 */
export function rowOf(batch, i) {
  try {
    return plain(batch.get(i));
  } catch {
    const row = {};
    batch.schema.fields.forEach((f, c) => {
      try {
        row[f.name] = plain(batch.getChildAt(c).get(i));
      } catch (e) {
        row[f.name] = `(cannot show: ${e.message})`;
      }
    });
    return row;
  }
}

/** The fields of an Arrow schema as {name, type[, scale]} for display. */
export const columnsOf = (fields) => fields.map((f) => {
  const c = { name: f.name, type: String(f.type) };
  if (typeof f.type.scale === 'number') c.scale = f.type.scale;
  return c;
});

// ---- showing values ---------------------------------------------------------

/** A value as text (null for NULL). */
function anyText(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `\\x${[...v].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v.toJSON ? v.toJSON() : v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
    } catch { return String(v); }
  }
  return String(v);
}

/** A decimal's unscaled integer (Arrow's value prints as one) with its point put back. */
function decimalText(v, scale) {
  let digits = String(v);
  const neg = digits.startsWith('-');
  if (neg) digits = digits.slice(1);
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

function timeText(v, type) {
  if (typeof v !== 'number') return null;
  if (/^Timestamp/.test(type)) return new Date(v).toISOString().replace('T', ' ').replace('Z', '');
  if (/^Date/.test(type)) return new Date(v).toISOString().slice(0, 10);
  return null;
}

// Arrow type names as DuckDB spells them, for column headers.
const ARROW_TO_SQL = [
  [/^Int8$/, 'TINYINT'], [/^Int16$/, 'SMALLINT'], [/^Int32$/, 'INTEGER'], [/^Int64$/, 'BIGINT'],
  [/^Uint8$/, 'UTINYINT'], [/^Uint16$/, 'USMALLINT'], [/^Uint32$/, 'UINTEGER'], [/^Uint64$/, 'UBIGINT'],
  [/^Float32$/, 'FLOAT'], [/^Float64$/, 'DOUBLE'], [/^Bool$/, 'BOOLEAN'], [/^(Large)?Utf8(View)?$/, 'VARCHAR'],
  [/^(Large)?Binary$/, 'BLOB'], [/^Date\d*</, 'DATE'], [/^Time\d*</, 'TIME'], [/^Null$/, 'NULL'],
  [/^Timestamp<[A-Z]+, /, 'TIMESTAMP WITH TIME ZONE'], [/^Timestamp</, 'TIMESTAMP'], [/^Interval/, 'INTERVAL'],
  [/^FixedSizeBinary\[16\]$/, 'UUID'],
];
/** A column's type as DuckDB names it (Arrow's spelling for nested types). */
export function sqlType(c) {
  const m = /^Decimal\[(\d+)e([+-]?\d+)\]$/.exec(c.type);
  if (m) return `DECIMAL(${m[1]},${Number(m[2])})`;
  for (const [re, name] of ARROW_TO_SQL) if (re.test(c.type)) return name;
  return c.type; // lists, structs, maps: Arrow's own spelling says enough
}

/** A value of column `c` ({type, scale?}) as the page shows it; null for NULL.
 * 64/128-bit integers and decimals arrive as their digits, decimals unscaled. */
export function valueText(v, c) {
  if (v === null || v === undefined) return null;
  if (c.scale !== undefined && /^Decimal/.test(c.type)) return decimalText(v, c.scale);
  return timeText(v, c.type) ?? anyText(v);
}

/** Is column `c` numeric (shown right-aligned)? */
export const isNumeric = (c) => /^(U?Int|Float|Decimal)/.test(c.type);

// ---- figures ------------------------------------------------------------------

export const fmtInt = new Intl.NumberFormat('en-US');

/** Bytes as B, KiB, MiB or GiB. */
export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

/** Milliseconds as "12 ms" or "1.25 s". */
export const fmtMs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

/** "1 row", "2,500 rows". */
export const fmtRows = (n) => `${fmtInt.format(n)} row${n === 1 ? '' : 's'}`;
