// result_views.js: the results panel's side of the session worker.  A
// "view" is a cached result (md_cache.main.rN) as one panel shows it:
// filtered, searched and sorted (result_sql.js builds the SQL).  The panel
// asks for windows of its rows as text, whole values, and children of
// nested values; everything runs in duckdb-wasm on connections of its own,
// so it goes on while a cell's query runs.
//
// A sorted view is first answered by top-N queries (the first windows at
// once), while the view's rows are copied in their order into a table of
// their own (md_cache.main.vN) in the background; later windows then read
// that table with LIMIT/OFFSET, a few milliseconds at any depth.  A filter
// alone needs no copy: its windows scan in the result's order.  A panel
// has one view at a time: opening another closes the previous one (a copy
// under way is cancelled, a copy made is dropped).

import { mdError } from './errors.js';
import { exportOnServer } from './server_export.js';
import { CACHE_DB, ident } from './localdb.js';
import { childrenSql, countSql, DETAIL_BINS, FILTER_OPS, materializeSql, nestedKind, orderOf, profileShapeSql,
  profileStatsSql, rowsSql, SAMPLE_ABOVE, SAMPLE_ROWS, STRIP_BINS, structFieldsSql, typeKind, valueSql, whereOf,
  windowSql } from './result_sql.js';

/** Rows above which a sorted view's deep windows wait for its copy instead of running a top-N each. */
const TOP_N_DEPTH = 2000;
/** Most rows one window request may ask for. */
const MAX_WINDOW = 5000;

const RESULT_NAME = /^md_cache\.main\.(r\d+)$/;

/** A result's cache table name (md_cache.main.rN) checked and quoted. */
function resultTable(name) {
  const m = RESULT_NAME.exec(String(name));
  if (!m) throw mdError('INVALID_ARGUMENT', `${name} is not a cached result`);
  return `${ident(CACHE_DB)}.main.${ident(m[1])}`;
}

/** The rows of an Arrow table of text columns as arrays (null for NULL). */
function textRows(table) {
  const cols = table.schema.fields.map((_, i) => table.getChildAt(i));
  const rows = new Array(table.numRows);
  for (let r = 0; r < table.numRows; r++) rows[r] = cols.map((c) => c.get(r));
  return rows;
}

/**
 * A value of an Arrow column for the pivot's virtual server: 64-bit
 * integers stay BigInt, 128-bit ones and decimals (Arrow JS gives their
 * 32-bit words) become BigInt or, with a scale, a number; lists and structs
 * plain arrays and objects.
 */
function pivotValue(v, scale) {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint32Array) {
    let x = 0n;
    for (let i = v.length - 1; i >= 0; i--) x = (x << 32n) | BigInt(v[i]);
    const bits = BigInt(v.length * 32);
    if (x >> (bits - 1n)) x -= 1n << bits; // two's complement
    return scale ? Number(x) / 10 ** scale : x;
  }
  if (ArrayBuffer.isView(v)) return Array.from(v);
  if (typeof v.toJSON === 'function') return pivotValue(v.toJSON());
  if (Array.isArray(v)) return v.map((x) => pivotValue(x));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pivotValue(x)]));
}

/** A view spec from the page, checked: {sort, filter, search}. */
function specOf(v = {}) {
  const sort = Array.isArray(v.sort) ? v.sort : [];
  const filter = Array.isArray(v.filter) ? v.filter : [];
  const search = typeof v.search === 'string' ? v.search : '';
  for (const s of sort) if (!Array.isArray(s) || typeof s[0] !== 'string') throw mdError('INVALID_ARGUMENT', 'a sort is [[column, "asc"|"desc"], ...]');
  for (const f of filter) if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string') throw mdError('INVALID_ARGUMENT', 'a filter is [[column, op, value], ...]');
  for (const [, op] of filter) if (!FILTER_OPS.includes(op)) throw mdError('INVALID_ARGUMENT', `unknown filter operator ${op} (${FILTER_OPS.join(', ')})`);
  for (const [, dir] of sort) if (dir !== 'asc' && dir !== 'desc') throw mdError('INVALID_ARGUMENT', `a sort direction is "asc" or "desc", not ${dir}`);
  return { sort, filter, search };
}

export class ResultViews {
  #local;
  #server;
  #serverExports = Promise.resolve();
  #quick = null;  // connection for windows and values
  #slow = null;   // connection for copies (long, cancellable)
  #pivot = null;  // connection of the pivot's queries (its view tables are temporary tables of it)
  #profiler = null; // connection of the column explorer's queries (long, cancellable)
  #views = new Map(); // id -> view
  #byOwner = new Map(); // owner -> view id
  #latest = new Map();  // owner -> id of its latest open()
  #seq = 0;

  /** Over a LocalDb (localdb.js); `server` (a RemoteSession, remote.js) makes Parquet and JSON files. */
  constructor(local, server = null) {
    this.#local = local;
    this.#server = server;
  }

  async #conns() {
    if (!this.#quick) {
      this.#quick = this.#local.connect();
      this.#slow = this.#local.connect();
    }
    return { quick: await this.#quick, slow: await this.#slow };
  }

  #view(id) {
    const v = this.#views.get(id);
    if (!v) throw mdError('NOT_FOUND', 'this view of the result is closed (the result was replaced or dropped)');
    return v;
  }

  /**
   * Open `owner`'s view of a result: {table (md_cache.main.rN), view:
   * {sort, filter, search}, limit}.  Resolves to {view (its id), rowCount,
   * columns: [{name, type, kind}], rows: the first `limit` rows as text}.
   */
  async open({ owner, table, view, limit = 100 }) {
    const source = resultTable(table);
    const spec = specOf(view);
    const id = ++this.#seq;
    // (an owner's later open, while this one waits, wins: this one then ends CANCELLED, leaving nothing)
    const superseded = () => owner !== undefined && this.#latest.get(owner) !== id;
    if (owner !== undefined) this.#latest.set(owner, id);
    const { quick } = await this.#conns();
    const columns = (await quick.rows(`DESCRIBE SELECT * FROM ${source}`))
      .map((r) => ({ name: r.column_name, type: r.column_type, kind: typeKind(r.column_type) }));
    for (const [c] of [...spec.sort, ...spec.filter]) {
      if (!columns.some((x) => x.name === c)) throw mdError('INVALID_ARGUMENT', `the result has no column ${c}`);
    }
    const filtered = spec.filter.length || spec.search;
    const rowCount = filtered ? Number((await quick.rows(countSql(source, spec, columns)))[0].n)
      : Number((await quick.rows(`SELECT count(*)::BIGINT AS n FROM ${source}`))[0].n);
    if (superseded()) throw mdError('CANCELLED', 'a newer view of this result was asked for');
    await this.close({ owner });
    const v = { id, owner, table: String(table), source, spec, columns, rowCount, copy: null, copying: null };
    this.#views.set(v.id, v);
    if (owner !== undefined) this.#byOwner.set(owner, v.id);
    const rows = await this.#window(v, 0, Math.min(limit, MAX_WINDOW));
    if (superseded()) {
      await this.close({ view: v.id });
      throw mdError('CANCELLED', 'a newer view of this result was asked for');
    }
    if (spec.sort.length && rowCount > TOP_N_DEPTH) this.#startCopy(v);
    return { view: v.id, rowCount, columns, rows };
  }

  /** Copy a sorted view's rows in order into a table of its own, in the background. */
  #startCopy(v) {
    const name = `${ident(CACHE_DB)}.main.${ident(`v${v.id}`)}`;
    v.copying = this.#conns()
      .then(({ slow }) => slow.long(materializeSql(name, v.source, v.spec, v.columns)))
      .then(() => true, () => false) // cancelled or failed: windows keep using top-N queries
      .then(async (made) => {
        if (made && this.#views.get(v.id) === v) v.copy = name;
        else await this.#drop(name); // (a cancel may come after the table was made)
      })
      .finally(() => { v.copying = null; });
  }

  #drop(name) {
    return this.#conns().then(({ quick }) => quick.query(`DROP TABLE IF EXISTS ${name}`)).catch(() => {});
  }

  /** The SQL of rows [offset, offset + limit) of view `v` (its table's values). */
  async #rowsSql(v, offset, limit) {
    if (!v.copy && v.copying && offset + limit > TOP_N_DEPTH) await v.copying;
    return v.copy ? rowsSql(v.copy, {}, v.columns, offset, limit) : rowsSql(v.source, v.spec, v.columns, offset, limit);
  }

  async #window(v, offset, limit, full = false) {
    const { quick } = await this.#conns();
    return textRows(await quick.query(windowSql(await this.#rowsSql(v, offset, limit), v.columns, full)));
  }

  /**
   * Rows [offset, offset + limit) of a view, each an array of texts (null:
   * NULL; cut after CELL_CHARS unless `full`); resolves to {rows}.
   */
  async window({ view, offset, limit, full = false }) {
    const v = this.#view(view);
    const o = Math.max(0, Math.floor(Number(offset) || 0));
    const n = Math.min(MAX_WINDOW, Math.max(0, Math.floor(Number(limit) || 0)));
    return { rows: await this.#window(v, o, n, !!full) };
  }

  /**
   * The value of row `row`, column `column`, at `path` inside it (result_sql.js
   * pathExpr), whole: {text, type, children?}.  A list, map or struct also
   * has its children [{key, text, type, step}] (a list's first 1000).
   */
  async value({ view, row, column, path = [] }) {
    const v = this.#view(view);
    if (!v.columns.some((c) => c.name === column)) throw mdError('INVALID_ARGUMENT', `the result has no column ${column}`);
    const { quick } = await this.#conns();
    const one = await this.#rowsSql(v, Math.max(0, Math.floor(Number(row) || 0)), 1);
    const [top] = await quick.rows(valueSql(one, column, path));
    if (!top) throw mdError('NOT_FOUND', `the view has no row ${row}`);
    const out = { text: top.text, type: top.type };
    const kind = top.text === null ? null : nestedKind(top.type);
    if (kind === 'list' || kind === 'map') {
      out.children = (await quick.rows(childrenSql(one, column, path, kind)))
        .map((c) => ({ key: c.key, text: c.text, type: c.type, step: kind === 'list' ? { list: Number(c.step) } : { entry: Number(c.step) } }));
    } else if (kind === 'struct') {
      const sql = structFieldsSql(one, column, path);
      const texts = await quick.query(sql.texts);
      const types = (await quick.rows(sql.types))[0] ?? {};
      const fields = texts.schema.fields.map((f) => f.name);
      const values = textRows(texts)[0] ?? [];
      out.children = fields.map((f, i) => ({ key: f, text: values[i], type: Object.values(types)[i], step: { field: f } }));
    }
    return out;
  }

  /** Close `owner`'s view (or view `view`): its copy is cancelled or dropped. */
  async close({ owner, view }) {
    const id = view ?? this.#byOwner.get(owner);
    const v = id !== undefined ? this.#views.get(id) : null;
    if (!v) return;
    this.#views.delete(v.id);
    if (v.owner !== undefined && this.#byOwner.get(v.owner) === v.id) this.#byOwner.delete(v.owner);
    const copying = v.copying;
    if (copying) {
      (await this.#slow)?.cancel();
      await copying; // a copy that ended meanwhile drops itself (its view is gone)
    }
    if (v.copy) await this.#drop(v.copy);
  }

  /**
   * One column's profile over a view's rows (result_sql.js profileStatsSql,
   * then profileShapeSql): {view, column, detail}; resolves to the figures,
   * and bins [{b, k}] or top [{v, k}], and `sampled` (the percent of rows
   * the shape was drawn from, or null: all).  Polled and cancellable: a profile asked for
   * while another runs cancels that one (the explorer moved on), which
   * then rejects with CANCELLED.
   */
  async profile({ view, column, detail = false }) {
    const v = this.#view(view);
    const col = v.columns.find((c) => c.name === column);
    if (!col) throw mdError('INVALID_ARGUMENT', `the result has no column ${column}`);
    this.#profiler ??= this.#local.connect();
    const conn = await this.#profiler;
    const source = v.copy ?? `(SELECT * FROM ${v.source}${whereOf(v.spec, v.columns)})`;
    const [stats] = await conn.long(profileStatsSql(source, column, col.kind, { detail }));
    const n = Number(stats.n);
    // a strip over many rows draws its shape from a sample; the details never do
    const percent = !detail && n > SAMPLE_ABOVE ? Math.max(1, Math.ceil((100 * SAMPLE_ROWS) / n)) : 100;
    const out = { column, kind: col.kind, type: col.type, ...stats, sampled: percent < 100 ? percent : null };
    if (col.kind === 'number' || col.kind === 'time') {
      if (stats.lo !== null && stats.lo !== undefined) {
        out.bins = await conn.long(profileShapeSql(source, column, col.kind,
          { lo: stats.lo, hi: stats.hi, bins: detail ? DETAIL_BINS : STRIP_BINS, percent }));
      } else out.bins = [];
    } else {
      out.top = await conn.long(profileShapeSql(source, column, col.kind, { top: detail ? 20 : 5, percent }));
    }
    return out;
  }

  /** Stop the profile being computed, if any. */
  async stopProfile() {
    if (this.#profiler) (await this.#profiler).cancel();
  }

  /**
   * A file of a view's rows: {view, format: 'csv'|'tsv'|'arrow'|'parquet'|
   * 'json', scope: 'all' (the whole result) | 'view' (as filtered and
   * sorted)}.  Resolves to its bytes.  CSV and TSV are duckdb-wasm's COPY
   * (with a header), Arrow an IPC file of DuckDB's own; Parquet and JSON
   * need DuckDB extensions duckdb-wasm would download, so the server's
   * DuckDB writes them (server_export.js).
   */
  async export({ view, format, scope = 'all' }) {
    const v = this.#view(view);
    const { quick } = await this.#conns();
    const sql = scope === 'view'
      ? (v.copy ? `SELECT * FROM ${v.copy}` : `SELECT * FROM ${v.source}${whereOf(v.spec, v.columns)}${orderOf(v.spec.sort)}`)
      : `SELECT * FROM ${v.source}`;
    switch (format) {
      case 'csv': return quick.copyTo(sql, 'FORMAT csv, HEADER');
      case 'tsv': return quick.copyTo(sql, "FORMAT csv, HEADER, DELIMITER '\t'");
      case 'arrow': return quick.ipcFile(sql);
      case 'parquet': case 'json': {
        if (!this.#server) throw mdError('UNSUPPORTED', `${format} files are made by the server, and there is none here`);
        // one at a time: they share the session's table and file names
        const run = this.#serverExports.then(() => exportOnServer({ local: this.#local, remote: this.#server }, sql, format));
        this.#serverExports = run.catch(() => {});
        return run;
      }
      default: throw mdError('UNSUPPORTED', `cannot export ${format} (CSV, TSV, Arrow, Parquet or JSON)`);
    }
  }

  /**
   * A query of the pivot (Perspective's DuckDB virtual server, on the
   * page): {sql, as: 'rows'|'ipc'}.  'rows': objects of plain values, wide
   * integers as BigInt and decimals as numbers (what the virtual server
   * reads); 'ipc': the result as Arrow IPC bytes, which it decodes itself.
   */
  async pivot({ sql, as }) {
    // (count_distinct: the pivot writes each aggregate as name(column))
    this.#pivot ??= this.#local.connect().then(async (c) => {
      await c.query('CREATE TEMP MACRO count_distinct(x) AS count(DISTINCT x)');
      return c;
    });
    const conn = await this.#pivot;
    if (as === 'ipc') return conn.ipc(String(sql));
    const t = await conn.query(String(sql));
    const rows = [];
    for (let r = 0; r < t.numRows; r++) {
      const row = {};
      t.schema.fields.forEach((f, i) => { row[f.name] = pivotValue(t.getChildAt(i).get(r), f.type.scale); });
      rows.push(row);
    }
    return rows;
  }

  /** What the cache holds: {tables: the names of its tables, bytes: what DuckDB's in-memory tables hold}. */
  async cache() {
    const { quick } = await this.#conns();
    const rows = await quick.rows(`SELECT table_name FROM duckdb_tables() WHERE database_name = '${CACHE_DB}' ORDER BY 1`);
    return { tables: rows.map((r) => r.table_name), bytes: await this.#local.tableBytes() };
  }

  /** Close every view of result `table` (it is being dropped). */
  async closeTable(table) {
    for (const v of [...this.#views.values()]) if (v.table === table) await this.close({ view: v.id });
  }
}
