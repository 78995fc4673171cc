// runtime.js: one page session, and the page's host of the dual-execution
// driver (wasm/driver.h, in the WASM engine).  The driver decides everything
// (routing, splitting, bridges, fallback, the bridge cap, EXPLAIN answers,
// catalog refreshes); this host only carries out its actions with
// duckdb-wasm (the local site) and the server session (the remote site),
// and tells it how each ended.
//
//   RUN local   SHOW: streamed, its first DISPLAY_ROWS kept for display;
//               NONE: run; TEXT: the first row's second column;
//               BRIDGE: the rows as an Arrow IPC stream, UPLOADed into the
//               session's temp table (at most max_bytes).
//   RUN remote  SHOW: the Arrow IPC result inserted into duckdb-wasm batch by
//               batch as the cache table md_cache.main.r<N> (the first rows
//               as soon as they arrive); BRIDGE: the same into
//               md_cache.main.<table>; NONE, TEXT: as SHOW without display.
//   PARSE, DEPARSE: requests; CATALOG: the server's, or the rows of the
//   action's query in duckdb-wasm; WAIT: a detached action's promise.
//
// Errors: every failure is an MdError (errors.js) with code (a wire name of
// shared/md_error.h), message and, when it points into the SQL, position:
// an index into the script text.
//
// The engine, the local site (localdb.js) and the server session (remote.js)
// are given to the constructor: the page's session worker makes them in the
// browser, build/slt-wasm in Node.

import { MdError } from './errors.js';
import { ident, literal } from './localdb.js';
import { columnsOf, rowOf } from './rows.js';

/** Rows kept for display per result. */
export const DISPLAY_ROWS = 100;

/** Most Arrow bytes one bridge of dual execution may move (Runtime.bridgeCap). */
export const DEFAULT_BRIDGE_CAP = 1 << 30;

/** A cache table's name (md_cache.main.rN) quoted for SQL. */
const cacheRef = (name) => name.split('.').map(ident).join('.');

const fail = (code, message, position) => new MdError({ code, message, position });

export class Runtime extends EventTarget {
  #resultSeq = 0;
  #running = null;      // {cancel()} of the action in flight
  #catalogTimer = null;
  #bridgeCap = DEFAULT_BRIDGE_CAP;

  constructor({ engine, local, remote }) {
    super();
    this.engine = engine;
    this.local = local;
    this.remote = remote;
    /** Milliseconds of each start-up part (for the status and benchmarks). */
    this.timings = {};
  }

  /** Most Arrow bytes one bridge may move; a bigger one fails the statement (BRIDGE_TOO_LARGE). */
  get bridgeCap() { return this.#bridgeCap; }

  set bridgeCap(bytes) {
    this.#bridgeCap = bytes;
    this.engine.setBridgeCap(bytes);
  }

  /** Ask the server for its catalog and give it to the engine. */
  async refreshRemoteCatalog() {
    this.engine.setCatalog('remote', await this.remote.catalog());
    this.dispatchEvent(new CustomEvent('catalog'));
  }

  /** Take the server's catalog pushes (between scripts) and read both catalogs now. */
  async begin() {
    await this.run(''); // the driver's first actions read both catalogs
    this.remote.addEventListener('catalog-changed', () => this.#refreshRemoteCatalogSoon());
    this.remote.addEventListener('reconnected', () => this.#refreshRemoteCatalogSoon());
  }

  #refreshRemoteCatalogSoon() {
    if (this.#catalogTimer) return;
    this.#catalogTimer = setTimeout(() => {
      this.#catalogTimer = null;
      if (!this.#running) this.refreshRemoteCatalog().catch(() => { /* next change or reconnect retries */ });
    }, 0);
  }

  /**
   * Run a script.  Resolves with {results: [result per statement shown], ms,
   * sites: where each statement ran};
   * a result is {statement, site ('local'|'remote'|'server'|'hybrid'),
   * columns: [{name, type}], rows: first DISPLAY_ROWS as objects, rowCount,
   * ms, bytes (received from the server), cacheTable, hybrid?, notice?}.
   * handlers: onStatement({index, route}), onProgress({percent}), onRows(partial
   * result with the first rows, as soon as they are cached); keepIpc: a
   * local result also keeps all its rows as DuckDB's Arrow IPC bytes
   * (result.ipc), for a caller that needs every row (build/slt-wasm; a
   * remote one is whole in its cache table); keep: 'last' caches every
   * result shown, local ones too, and keeps only the last one's cache table
   * (a cell's: the results panel reads it), 'none' keeps none; by default
   * remote results stay cached and local ones are not (a script that fails
   * keeps none with `keep`); resultName: the last result is kept (cached,
   * local or remote; not with keep 'none') and queryable under that name.  A cached result says how many bytes its table added to
   * duckdb-wasm's memory (cacheBytes).
   */
  async run(sql, handlers = {}) {
    if (this.#running) throw fail('INVALID_ARGUMENT', 'a query is already running: wait for it or cancel it');
    const t0 = performance.now();
    const results = [];
    const detached = new Map(); // action id -> promise of its event
    this.#running = { cancel: () => false };
    let action;
    let shown = -1; // the last statement onStatement announced
    try {
      this.engine.begin(sql);
      action = this.engine.next();
      while (action.kind !== 'done' && action.kind !== 'fail') {
        if ((action.kind === 'run' || action.kind === 'parse') && action.statement > shown && handlers.onStatement) {
          shown = action.statement;
          handlers.onStatement({ index: shown, route: this.engine.summary().statements[shown]?.where });
        }
        const { event, text } = await this.#carryOut(action, handlers, results, detached);
        action = this.engine.next(event, text);
      }
    } finally {
      this.#running = null;
    }
    if (action.kind === 'fail') {
      if (handlers.keep) await this.#dropUnkept(results, null); // nothing is shown of a failed script
      throw fail(action.code, action.message, action.position);
    }
    this.dispatchEvent(new CustomEvent('catalog'));
    const summary = this.engine.summary().statements;
    for (const r of results) {
      const s = summary[r.statement] ?? {};
      if (s.where === 'hybrid' && s.hybrid) {
        const h = s.hybrid;
        r.site = 'hybrid';
        r.hybrid = { mode: h.mode, reason: h.reason, root: h.root, bytesUp: h.bytes_up, bytesDown: h.bytes_down,
          finalMs: h.final_ms, bridges: h.bridges };
      }
      else if (s.where === 'server') r.site = 'server';
      if (s.notice) r.notice = s.notice;
    }
    const ms = performance.now() - t0;
    if (handlers.keep) await this.#dropUnkept(results, handlers.keep === 'last' ? results.at(-1) : null);
    // after the summary is read: naming the result runs a script of its own
    if (handlers.resultName) await this.#nameResult(handlers.resultName, results.at(-1));
    return { results, ms, sites: summary.map((s) => s.where) };
  }

  /** Carry out one action; resolves with {event, text} (errors become error events). */
  async #carryOut(a, handlers, results, detached) {
    const t0 = performance.now();
    const ended = (x = {}) => ({ event: { kind: 'ok', id: a.id, ms: performance.now() - t0, ...x.event }, text: x.text });
    const failed = (e) => ({
      event: { kind: 'error', id: a.kind === 'wait' ? a.wait_id : a.id, code: e.code ?? 'INTERNAL', type: e.type,
        message: e.message, position: e.position, bytes: e.bytes, local_reset: !!e.connectionReplaced },
    });
    try {
      switch (a.kind) {
        case 'catalog':
          // the local site: the rows of the driver's catalog query, which the driver folds
          return ended({ text: JSON.stringify(a.site === 'local' ? await this.local.rows(a.sql) : await this.remote.catalog()) });
        case 'parse': return ended({ text: await this.remote.parse(a.sql) });
        case 'deparse': return ended({ text: JSON.stringify({ sql: await this.remote.deparse(a.sql) }) });
        case 'wait': return { ...(await detached.get(a.wait_id)), text: '' };
        case 'run': {
          // each returns once its request is on the wire: {event, text}, or for a detached action
          // {event, done} (the server answers in order, so what is sent after it runs after it)
          const out = a.site === 'local' ? await this.#runLocal(a, handlers, results) : await this.#runRemote(a, handlers, results);
          if (!out.done) return ended(out);
          detached.set(a.id, out.done.then(ended, failed));
          return { event: { ...out.event, kind: 'started', id: a.id }, text: '' };
        }
        default: throw fail('INTERNAL', `the driver asked for ${a.kind}`);
      }
    } catch (e) {
      return failed(e);
    }
  }

  async #runLocal(a, handlers, results) {
    const t0 = performance.now();
    if (a.sink === 'bridge') { // browser -> server
      const { rows, ipc } = await this.local.ipc(a.sql); // an empty result is its schema alone: an empty table upstream
      if (ipc.length > a.max_bytes) throw Object.assign(fail('TOO_LARGE', 'over the bridge cap'), { bytes: ipc.length });
      const result = { event: { rows, bytes: ipc.length } };
      const answer = this.remote.upload(a.table, ipc, { catalog: false }).then(() => result);
      return a.detach ? { ...result, done: answer } : answer;
    }
    if (a.sink !== 'show') {
      const table = await this.local.query(a.sql);
      const row = table.numRows ? Object.values(table.get(0).toJSON()) : null;
      return { event: { rows: table.numRows }, text: a.sink === 'text' && row ? String(row[1] ?? '') : '' };
    }
    const rows = [];
    let columns = [];
    this.#running = { cancel: () => this.local.cancel() };
    // a result to keep goes into a cache table as it streams
    const name = handlers.resultName || handlers.keep === 'last' ? `r${++this.#resultSeq}` : null;
    const bytesBefore = name ? await this.local.tableBytes() : 0;
    let writer = null;
    let rowCount, ipc;
    try {
      ({ rows: rowCount, ipc } = await this.local.stream(a.sql, {
        keepIpc: handlers.keepIpc,
        onSchema: (fields) => { columns = columnsOf(fields); },
        onBatch: (batch) => {
          for (let i = 0; i < batch.numRows && rows.length < DISPLAY_ROWS; i++) rows.push(rowOf(batch, i));
        },
        onMessage: name ? (bytes, n) => { if (n === 0) writer = this.local.cacheWriter(name, bytes); else writer.write(bytes); } : undefined,
      }));
      await writer?.end();
    } catch (e) {
      if (writer) {
        await writer.end().catch(() => {});
        await this.local.query(`DROP TABLE IF EXISTS ${this.local.cacheTable(name)}`).catch(() => {});
      }
      throw e;
    }
    results.push({
      statement: a.statement, site: 'local', columns, rows, rowCount, ms: performance.now() - t0, bytes: 0,
      cacheTable: writer ? this.local.cacheName(name) : null, ...(ipc ? { ipc } : {}),
      ...(writer ? { cacheBytes: Math.max(0, (await this.local.tableBytes()) - bytesBefore) } : {}),
    });
    return { event: { rows: rowCount } };
  }

  /** A remote result (or a bridge's rows) into a cache table of duckdb-wasm, batch by batch. */
  async #runRemote(a, handlers, results) {
    const t0 = performance.now();
    if (a.sink === 'none') {
      const answer = this.remote.query(a.sql, { catalog: !a.quiet }).done.then((end) => ({ event: { rows: end.rows ?? 0 } }));
      return a.detach ? { event: {}, done: answer } : answer;
    }
    const name = a.sink === 'bridge' ? a.table : `r${++this.#resultSeq}`;
    const cacheTable = this.local.cacheTable(name);
    const show = a.sink === 'show';
    // (measured for the page's cells only: it costs a round trip to duckdb-wasm)
    const measure = show && !!(handlers.keep || handlers.resultName);
    const bytesBefore = measure ? await this.local.tableBytes() : 0;
    let writer = null;
    let bytes = 0;
    const showFirstRows = async () => {
      try {
        const preview = await this.#preview(cacheTable);
        handlers.onRows?.({ statement: a.statement, site: 'remote', cacheTable: this.local.cacheName(name), ...preview });
      } catch { /* the final read reports problems */ }
    };
    const req = this.remote.query(a.sql, {
      onSchema: (s) => {
        bytes += s.length;
        writer = this.local.cacheWriter(name, s, { onGroup: (n) => { if (n === 1 && show && handlers.onRows) showFirstRows(); } });
      },
      onBatch: (x) => {
        bytes += x.length;
        if (a.sink === 'bridge' && bytes > a.max_bytes) throw Object.assign(fail('TOO_LARGE', 'over the bridge cap'), { bytes });
        writer.write(x);
      },
      onProgress: (p) => { if (show) handlers.onProgress?.(p); },
    });
    this.#running = { cancel: () => req.cancel() };
    const finish = async () => {
      let end;
      try {
        end = await req.done;
        await writer?.end();
      } catch (e) { // no partial result stays in the cache
        if (writer) await writer.end().catch(() => {});
        await this.local.query(`DROP TABLE IF EXISTS ${cacheTable}`).catch(() => {});
        if (e.code === 'SQL_ERROR' && writer?.error === e) {
          throw fail('UNSUPPORTED', `the result arrived but could not be cached in the browser: ${e.message}`);
        }
        throw e;
      }
      const preview = writer && a.sink !== 'bridge' ? await this.#preview(cacheTable) : { columns: [], rows: [] };
      if (a.sink === 'text') {
        await this.local.query(`DROP TABLE IF EXISTS ${cacheTable}`);
        const row = preview.rows[0];
        return { event: { rows: end.rows, bytes }, text: row ? String(Object.values(row)[1] ?? '') : '' };
      }
      if (show) {
        results.push({
          statement: a.statement, site: 'remote', ...preview, rowCount: end.rows, ms: performance.now() - t0,
          bytes: end.frameBytes, serverMs: end.ms, cacheTable: writer ? this.local.cacheName(name) : null,
          ...(writer && measure ? { cacheBytes: Math.max(0, (await this.local.tableBytes()) - bytesBefore) } : {}),
        });
      }
      return { event: { rows: end.rows, bytes: end.frameBytes ?? bytes } };
    };
    return a.detach ? { event: {}, done: finish() } : finish();
  }

  /**
   * Make a script's last result queryable as `name` (a named cell's): a
   * temporary view in duckdb-wasm over its cache table, created through the
   * driver so the engine's catalog knows it (temp is searched first, so the
   * name shadows a table of the same name, as DuckDB's temporary tables do).
   * Without a cached result the name is dropped.
   */
  async #nameResult(name, result) {
    const view = `temp.main.${ident(name)}`;
    await this.run(result?.cacheTable
      ? `CREATE OR REPLACE TEMP VIEW ${ident(name)} AS FROM ${cacheRef(result.cacheTable)}`
      : `DROP VIEW IF EXISTS ${view}`);
  }

  /** Drop the cache tables of `results` but the one of `kept`. */
  async #dropUnkept(results, kept) {
    for (const r of results) {
      if (r === kept || !r.cacheTable) continue;
      await this.local.query(`DROP TABLE IF EXISTS ${cacheRef(r.cacheTable)}`).catch(() => {});
      r.cacheTable = null;
      delete r.cacheBytes;
    }
  }

  /** Drop a result's cache table (md_cache.main.rN, as results name it) once nothing shows it. */
  async dropResult(cacheTable) {
    if (!/^md_cache\.main\.r\d+$/.test(cacheTable)) throw fail('INVALID_ARGUMENT', `${cacheTable} is not a cached result`);
    await this.local.query(`DROP TABLE IF EXISTS ${cacheRef(cacheTable)}`);
  }

  /** Cancel the running statement.  Returns whether something was cancelled. */
  cancel() {
    return this.#running ? this.#running.cancel() : false;
  }

  async #preview(cacheTable) {
    const t = await this.local.query(`SELECT * FROM ${cacheTable} LIMIT ${DISPLAY_ROWS}`);
    const rows = [];
    for (const batch of t.batches) for (let i = 0; i < batch.numRows; i++) rows.push(rowOf(batch, i));
    return { columns: columnsOf(t.schema.fields), rows };
  }

  /**
   * Make a dropped or picked File readable in duckdb-wasm; returns the SQL
   * that reads it.  CSV (and other text) is read where it is; JSON is
   * imported into a cache table (md_cache.main.file_<n>: duckdb-wasm reads
   * it itself); Parquet cannot be read offline (duckdb-wasm loads its
   * Parquet reader from the network) and is refused with a message that
   * says so.
   */
  async addFile(file) {
    if (/\.parquet$/i.test(file.name)) {
      throw fail('UNSUPPORTED', `${file.name}: Parquet cannot be read in the browser here (duckdb-wasm would download `
        + 'its Parquet reader, and mdserver works offline); put the file on the server, or save it as CSV or JSON');
    }
    if (/\.(json|jsonl|ndjson)$/i.test(file.name)) {
      const table = `file_${++this.#resultSeq}`;
      await this.local.importJson(file, table);
      return `FROM ${this.local.cacheTable(table)}`;
    }
    await this.local.registerFile(file);
    return `FROM ${literal(file.name)}`;
  }

  /** Stop everything. */
  async close() {
    this.remote.close();
    this.engine.close();
    await this.local.close();
  }
}
