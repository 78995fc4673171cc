// rows.js: a result's first rows and columns as plain data for the page:
// what survives postMessage from the session worker to the main thread.

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
