// result_sql.js: the SQL of the results panel, over a result cached in
// duckdb-wasm.  Every sort, filter, search, window and profile the panel
// shows is a query built here; nothing is computed by looping over rows in
// JavaScript.  Pure functions, used by the session worker (result_views.js,
// which runs them) and by the page (which parses what the user types into
// filters, and shows them back).
//
// Shapes are Perspective's, so the grid and the pivot share them:
//   sort    [["col", "asc"|"desc"], ...]
//   filter  [["col", op, value], ...], op one of FILTER_OPS
// Values are given to DuckDB as string literals and cast by it to the
// column's type, so a filter means what the same SQL typed by hand means.

import { ident, literal } from './localdb.js';

/** Characters of a value the grid shows at once; a longer one is fetched whole on demand. */
export const CELL_CHARS = 500;

/** Filter operators: Perspective's names, plus "regex" (DuckDB's regexp_matches). */
export const FILTER_OPS = ['==', '!=', '<', '<=', '>', '>=', 'contains', 'not contains', 'begins with',
  'ends with', 'regex', 'in', 'not in', 'is null', 'is not null'];

const NUMBER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;
const TIME_TYPES = /^(DATE|TIME|TIMESTAMP|INTERVAL)/;

/**
 * What kind of column a DuckDB type (as DESCRIBE spells it) is, for the
 * panel: 'number' (right-aligned, range filters, histograms), 'time'
 * (ranges, histograms), 'boolean', 'text', 'nested' (lists, structs and
 * maps: expandable) or 'other'.
 */
export function typeKind(type) {
  const t = String(type).toUpperCase();
  if (/\[\d*\]$/.test(t) || /^(STRUCT|MAP)\(/.test(t)) return 'nested'; // (INTEGER[] is a list)
  if (NUMBER_TYPES.test(t)) return 'number';
  if (TIME_TYPES.test(t)) return 'time';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'VARCHAR' || t.startsWith('ENUM') || t === 'UUID' || t === 'JSON') return 'text';
  return 'other';
}

const like = (v) => literal(String(v).replace(/[\\%_]/g, (c) => `\\${c}`));
const asText = (c) => `CAST(${ident(c)} AS VARCHAR)`;

/** One filter [col, op, value] as a SQL condition. Throws on an unknown operator. */
export function condition([col, op, value]) {
  const c = ident(col);
  switch (op) {
    case '==': case '!=': case '<': case '<=': case '>': case '>=':
      return `${c} ${op === '==' ? '=' : op} ${literal(value)}`;
    case 'contains': return `${asText(col)} ILIKE '%' || ${like(value)} || '%' ESCAPE '\\'`;
    case 'not contains': return `NOT (${asText(col)} ILIKE '%' || ${like(value)} || '%' ESCAPE '\\')`;
    case 'begins with': return `starts_with(${asText(col)}, ${literal(value)})`;
    case 'ends with': return `ends_with(${asText(col)}, ${literal(value)})`;
    case 'regex': return `regexp_matches(${asText(col)}, ${literal(value)})`;
    case 'in': case 'not in': {
      const list = (Array.isArray(value) ? value : [value]).map(literal);
      if (!list.length) return op === 'in' ? 'false' : 'true';
      return `${c} ${op === 'in' ? 'IN' : 'NOT IN'} (${list.join(', ')})`;
    }
    case 'is null': return `${c} IS NULL`;
    case 'is not null': return `${c} IS NOT NULL`;
    default: throw new Error(`unknown filter operator ${op}`);
  }
}

/** The search box: rows where some column's text contains `text` (any case). */
export function searchCondition(text, columns) {
  if (!text || !columns.length) return null;
  return `(${columns.map((c) => `${asText(c.name)} ILIKE '%' || ${like(text)} || '%' ESCAPE '\\'`).join(' OR ')})`;
}

/** WHERE clause ('' for none) of a view {filter, search} over `columns`. */
export function whereOf({ filter = [], search = '' } = {}, columns = []) {
  const conds = filter.map(condition);
  const s = searchCondition(search, columns);
  if (s) conds.push(s);
  return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
}

/**
 * ORDER BY clause of a sort ('' for none).  Ties keep the result's order
 * (its rowid), so every window of a view agrees with every other.
 */
export function orderOf(sort = []) {
  const keys = sort.filter(([, dir]) => dir === 'asc' || dir === 'desc')
    .map(([col, dir]) => `${ident(col)} ${dir.toUpperCase()} NULLS LAST`);
  return keys.length ? ` ORDER BY ${keys.join(', ')}, rowid` : '';
}

/** A column's value as the grid shows it: DuckDB's own text, at most CELL_CHARS + 1 characters
 * (one more says it was cut). */
export const shownValue = (col) => `left(${asText(col)}, ${CELL_CHARS + 1})`;

/** The rows [offset, offset + limit) of `source` (a table, quoted) filtered and sorted by `view`. */
export const rowsSql = (source, view, columns, offset, limit) =>
  `SELECT * FROM ${source}${whereOf(view, columns)}${orderOf(view.sort)} LIMIT ${limit} OFFSET ${offset}`;

/**
 * The rows `rows` (rowsSql's query) with each column as shown text (with
 * `full`, whole).  The sort runs on the table's own values and only the
 * window is cast (casting first would cast every row).
 */
export const windowSql = (rows, columns, full = false) =>
  `SELECT ${columns.map((c) => (full ? asText(c.name) : shownValue(c.name))).join(', ')} FROM (${rows})`;

/** The number of rows of `source` the view keeps. */
export const countSql = (source, view, columns) => `SELECT count(*)::BIGINT AS n FROM ${source}${whereOf(view, columns)}`;

/** A table holding the view's rows in its order (its windows are then plain LIMIT/OFFSET reads). */
export const materializeSql = (table, source, view, columns) =>
  `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${source}${whereOf(view, columns)}${orderOf(view.sort)}`;

/**
 * The SQL expression of a value inside a nested one: `path` leads from
 * column `col` through steps {list: i} (1-based), {field: name} (a struct's)
 * and {entry: i} (a map's i-th entry, whose key and value are then fields).
 */
export function pathExpr(col, path = []) {
  let e = ident(col);
  for (const step of path) {
    if (step.list !== undefined) e = `(${e})[${Number(step.list)}]`;
    else if (step.entry !== undefined) e = `map_entries(${e})[${Number(step.entry)}]`;
    else if (step.field !== undefined) e = `struct_extract(${e}, ${literal(step.field)})`;
    else throw new Error('a path step is {list}, {entry} or {field}');
  }
  return e;
}

/** How a value of DuckDB type `type` (typeof's spelling) expands: 'list', 'map', 'struct', or null (it does not). */
export const nestedKind = (type) => {
  const t = String(type).toUpperCase();
  if (t.startsWith('MAP(')) return 'map';
  if (t.startsWith('STRUCT(')) return 'struct';
  if (/\[\d*\]$/.test(t)) return 'list';
  return null;
};

/** The value at `path` of the one row `rowSql` answers, whole: {text, type}. */
export const valueSql = (rowSql, col, path) =>
  `SELECT CAST(v AS VARCHAR) AS text, typeof(v) AS type FROM (SELECT ${pathExpr(col, path)} AS v FROM (${rowSql}))`;

const cut = (x) => `left(CAST(${x} AS VARCHAR), ${CELL_CHARS + 1})`;
const valueOf = (rowSql, col, path) => `(SELECT ${pathExpr(col, path)} AS v FROM (${rowSql}))`;

/**
 * The children of a list or map value at `path` (at most `limit`): rows
 * {key, text, type, step}; `step` is the path step to the child.
 */
export function childrenSql(rowSql, col, path, kind, limit = 1000) {
  const v = valueOf(rowSql, col, path);
  if (kind === 'list') {
    return `SELECT i::VARCHAR AS key, ${cut('v[i]')} AS text, typeof(v[i]) AS type, i AS step FROM ${v} AS t, `
      + `range(1, least(len(v), ${limit}) + 1) AS r(i) ORDER BY i`;
  }
  if (kind === 'map') {
    return `SELECT ${cut('e.key')} AS key, ${cut('e.value')} AS text, typeof(e.value) AS type, i AS step FROM `
      + `(SELECT unnest(map_entries(v)) AS e, generate_subscripts(map_entries(v), 1) AS i FROM ${v}) ORDER BY i LIMIT ${limit}`;
  }
  throw new Error(`childrenSql: ${kind} is not a list or map`);
}

/**
 * A struct's fields: two one-row queries whose columns are its fields, in
 * order: their values as shown text, and their types.
 */
export function structFieldsSql(rowSql, col, path) {
  const fields = `(SELECT unnest(v) FROM ${valueOf(rowSql, col, path)})`;
  return {
    texts: `SELECT ${cut('COLUMNS(*)')} FROM ${fields}`,
    types: `SELECT typeof(COLUMNS(*)) FROM ${fields}`,
  };
}

// ---- the filter row: what the user types in a column's filter box ----------

const COMPARE = /^(>=|<=|!=|<>|=|==|>|<)\s*(.*)$/s;

/**
 * The filters [col, op, value] that `text`, typed in the filter box of
 * column `col` of kind `kind` (typeKind), means:
 *   null, !null                    is null, is not null
 *   >5  >=5  <5  <=5  =5  !=5      comparisons (any kind)
 *   1..10                          a range, both ends included (numbers, times)
 *   a, b, c                        one of a list (numbers, times, booleans)
 *   =a, b, c                       one of a list (text)
 *   /regex/                        a regular expression (text)
 *   anything else                  text: contains it (any case); others: equals it
 */
export function parseFilterText(col, kind, text) {
  const t = String(text ?? '').trim();
  if (!t) return [];
  if (/^(is\s+)?null$/i.test(t)) return [[col, 'is null', null]];
  if (/^(!|not\s+|is\s+not\s+)null$/i.test(t)) return [[col, 'is not null', null]];
  const cmp = COMPARE.exec(t);
  if (cmp && (cmp[1] === '=' || cmp[1] === '==') && cmp[2].includes(',') && kind !== 'number' && kind !== 'time') {
    return [[col, 'in', cmp[2].split(',').map((x) => x.trim())]]; // =a, b, c: one of (text)
  }
  if (cmp && cmp[2] !== '') {
    const op = { '=': '==', '==': '==', '<>': '!=' }[cmp[1]] ?? cmp[1];
    return [[col, op, cmp[2].trim()]];
  }
  if (kind === 'number' || kind === 'time') {
    const range = /^(.+?)\s*\.\.\s*(.+)$/.exec(t);
    if (range) return [[col, '>=', range[1]], [col, '<=', range[2]]];
  }
  if (kind === 'text' || kind === 'other' || kind === 'nested') {
    const re = /^\/(.+)\/$/s.exec(t);
    if (re) return [[col, 'regex', re[1]]];
    return [[col, 'contains', t]];
  }
  if (t.includes(',')) return [[col, 'in', t.split(',').map((x) => x.trim()).filter(Boolean)]];
  return [[col, '==', t]];
}

/**
 * The text a filter box shows for column `col`'s filters (parseFilterText's
 * inverse); `kind` is the column's (a list reads differently for text).
 */
export function filterText(col, filters, kind = 'text') {
  const mine = filters.filter(([c]) => c === col);
  if (mine.length === 2 && mine[0][1] === '>=' && mine[1][1] === '<=') return `${mine[0][2]}..${mine[1][2]}`;
  return mine.map(([, op, v]) => {
    switch (op) {
      case 'is null': return 'null';
      case 'is not null': return '!null';
      case 'contains': return String(v);
      case 'regex': return `/${v}/`;
      case 'in': {
        const list = (Array.isArray(v) ? v : [v]).join(', ');
        return kind === 'number' || kind === 'time' ? list : `=${list}`;
      }
      case '==': return `=${v}`;
      default: return `${op}${v}`;
    }
  }).join(' ');
}

// ---- the column explorer ----------------------------------------------------

/** Bins of the small histograms, and of a column's details. */
export const STRIP_BINS = 16;
export const DETAIL_BINS = 40;

/** A numeric form of column `col` of kind `kind` for binning (times: seconds since the epoch). */
const measure = (col, kind) => (kind === 'time' ? `epoch(${ident(col)})` : `CAST(${ident(col)} AS DOUBLE)`);

/** Rows above which a column's strip draws its histogram or top values from a sample of about SAMPLE_ROWS. */
export const SAMPLE_ABOVE = 2000000;
export const SAMPLE_ROWS = 1000000;

/**
 * A column's figures over `source` in one pass: rows (n), non-null rows
 * (nn), approximate distinct values (d); for numbers and times min and max
 * as DuckDB prints them (lo_text, hi_text) and as numbers to bin by (lo, hi);
 * with `detail`, the mean and the 5/25/50/75/95% quantiles.
 */
export function profileStatsSql(source, col, kind, { detail = false } = {}) {
  const c = ident(col);
  const stats = ['count(*)::BIGINT AS n', `count(${c})::BIGINT AS nn`, `approx_count_distinct(${c})::BIGINT AS d`];
  if (kind === 'number' || kind === 'time') {
    const x = measure(col, kind);
    stats.push(`CAST(min(${c}) AS VARCHAR) AS lo_text`, `CAST(max(${c}) AS VARCHAR) AS hi_text`, `min(${x}) AS lo`, `max(${x}) AS hi`);
    if (detail) {
      stats.push(kind === 'number' ? `avg(${x})::VARCHAR AS mean` : 'NULL AS mean');
      stats.push(`CAST(approx_quantile(${c}, [0.05, 0.25, 0.5, 0.75, 0.95]) AS VARCHAR[]) AS quantiles`);
    }
  }
  return `SELECT ${stats.join(', ')} FROM ${source}`;
}

/**
 * A column's shape over `source`: for numbers and times (given `lo` and
 * `hi` from profileStatsSql) the rows in each of `bins` equal bins, one row
 * {b, k} per bin that has rows; for other kinds the `top` most frequent
 * values {v, k}.  With `percent` (< 100), over a sample of that share of
 * the rows (whole vectors: cheap).
 */
export function profileShapeSql(source, col, kind, { lo, hi, bins = STRIP_BINS, top = 5, percent = 100 } = {}) {
  const c = ident(col);
  const from = percent < 100 ? `(SELECT ${c} FROM ${source} USING SAMPLE ${Number(percent)}% (system))` : source;
  if (kind === 'number' || kind === 'time') {
    const span = Number(hi) - Number(lo);
    const scale = span > 0 ? bins / span : 0;
    // (a cast to INTEGER rounds: floor first; the maximum falls in the last bin)
    return `SELECT least(${bins - 1}, CAST(floor((${measure(col, kind)} - ${Number(lo)}) * ${scale}) AS INTEGER)) AS b, `
      + `count(*)::BIGINT AS k FROM ${from} WHERE ${c} IS NOT NULL GROUP BY ALL ORDER BY b`;
  }
  return `SELECT left(CAST(${c} AS VARCHAR), 200) AS v, count(*)::BIGINT AS k FROM ${from} GROUP BY ALL `
    + `ORDER BY k DESC, v NULLS LAST LIMIT ${top}`;
}
