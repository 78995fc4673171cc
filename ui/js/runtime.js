// runtime.js: one page session: the client engine (routing), duckdb-wasm (the
// local site and the result cache) and the server connection, working as
// one.  The page (page.js) and the browser tests talk only to this module.
//
//   run(sql):  the engine routes every statement of the script
//     LOCAL           runs in duckdb-wasm, its result streamed for display;
//     REMOTE, SERVER  goes to mdserver as a QUERY; its Arrow IPC result is
//                     inserted into duckdb-wasm batch by batch as the cache
//                     table md_cache.main.r<N> (LocalDb.cacheWriter: the
//                     first rows as soon as they arrive), so every remote
//                     result can be queried locally afterwards;
//     HYBRID          reads both sites: dual execution (#runHybrid, the
//                     engine's plan splitter): PARSE, plan, DEPARSE, then each
//                     bridge moves one part's rows (server -> browser into
//                     md_cache.main.__md_b<q>_<k>, browser -> server by UPLOAD
//                     into a temp table of the session), the final query runs
//                     at the plan's root, and the bridge tables are dropped;
//     MIXED, ERROR    nothing runs: the engine's message (naming the local and
//                     remote relations) is the error.
//   Nothing runs unless every statement can; then statements are routed and
//   run one after another, so the engine state (current databases,
//   transaction, catalog changes) holds only what ran; the first failure
//   stops the script, puts back the state from before that statement and
//   refreshes both catalogs.
//
// Catalog: the server's part is fetched at login, after a reconnect, and when
// the server pushes CATALOG(0) (its catalog changed); the local part is read
// from duckdb-wasm at start and after every local statement that is not a
// plain query.
//
// Errors: every failure is an Error with code (a wire name of
// shared/md_error.h, e.g. SQL_ERROR, CANCELLED, DISCONNECTED), message and,
// when it points into the SQL, position: an index into the script text.

import { Engine } from './engine.js';
import { LocalDb, CACHE_DB, ident, literal } from './localdb.js';
import { tableToIPC } from '/vendor/duckdb/duckdb.mjs';
import { RemoteSession } from './remote.js';

/** Rows kept for display per result. */
export const DISPLAY_ROWS = 100;

/** Most Arrow bytes one bridge of dual execution may move (Runtime.bridgeCap). */
export const DEFAULT_BRIDGE_CAP = 1 << 30;

const fmtSize = (n) => (n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

/** Index in `str` of the UTF-8 byte offset `byte` (DuckDB positions are bytes). */
function byteToIndex(str, byte) {
  let b = 0;
  let i = 0;
  for (const ch of str) {
    if (b >= byte) return i;
    const cp = ch.codePointAt(0);
    b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += ch.length;
  }
  return i;
}

/** A bridge of a table named by value whose table has another name (the page's md_cache): the
 * final query finds it through a temp view named as the value says. */
const needsView = (b) => b.alias && b.alias !== b.name;

function fail(code, message, position) {
  const e = new Error(message);
  e.code = code;
  if (position !== undefined) e.position = position;
  return e;
}

/** The fields of an Arrow schema as {name, type[, scale]} for display. */
const columnsOf = (fields) => fields.map((f) => {
  const c = { name: f.name, type: String(f.type) };
  if (typeof f.type.scale === 'number') c.scale = f.type.scale;
  return c;
});

export class Runtime extends EventTarget {
  #resultSeq = 0;
  #querySeq = 0;        // numbers the bridge tables of hybrid statements
  #running = null;      // {cancel()} of the statement in flight
  #catalogTimer = null;

  constructor({ engine, local, remote }) {
    super();
    this.engine = engine;
    this.local = local;
    this.remote = remote;
    /** Milliseconds of each start-up part (for the status and benchmarks). */
    this.timings = {};
    /** Most Arrow bytes one bridge may move; a bigger one fails the statement (TOO_LARGE). */
    this.bridgeCap = DEFAULT_BRIDGE_CAP;
  }

  /**
   * Start a session: duckdb-wasm, the engine and the server login in
   * parallel; the server's catalog is fetched as soon as the engine and the
   * login are there (while duckdb-wasm still compiles), the local one once
   * duckdb-wasm runs.  Rejects with code AUTH_FAILED for a bad token (after
   * stopping what it started).
   * @param {{token: string, url?: string, createEngine: Function}} options
   */
  static async start({ token, url, createEngine }) {
    const wsUrl = url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const remote = new RemoteSession(wsUrl, token);
    const t0 = performance.now();
    const timings = {};
    const timed = (p, key) => p.then((v) => { timings[key] = performance.now() - t0; return v; });
    const local = timed(LocalDb.open(), 'duckdb_instantiate');
    const engine = timed(Engine.create(createEngine), 'engine');
    const login = timed(remote.connect(), 'login');
    const remoteCatalog = timed(Promise.all([engine, login])
      .then(async ([e]) => e.setCatalog('remote', await remote.catalog())), 'remote_catalog');
    const localCatalog = timed(Promise.all([engine, local])
      .then(async ([e, l]) => e.setCatalog('local', await l.catalog())), 'local_catalog');
    const results = await Promise.allSettled([local, engine, login, remoteCatalog, localCatalog]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      remote.close();
      if (results[0].status === 'fulfilled') await results[0].value.close();
      if (results[1].status === 'fulfilled') results[1].value.close();
      throw failed.reason;
    }
    const rt = new Runtime({ engine: results[1].value, local: results[0].value, remote });
    rt.timings = timings;
    remote.addEventListener('catalog-changed', () => rt.#refreshRemoteCatalogSoon());
    remote.addEventListener('reconnected', () => rt.#refreshRemoteCatalogSoon());
    timings.ready = performance.now() - t0;
    return rt;
  }

  /** Ask the server for its catalog and give it to the engine. */
  async refreshRemoteCatalog() {
    this.engine.setCatalog('remote', await this.remote.catalog());
    this.dispatchEvent(new CustomEvent('catalog'));
  }

  /** Read duckdb-wasm's catalog and give it to the engine. */
  async refreshLocalCatalog() {
    this.engine.setCatalog('local', await this.local.catalog());
    this.dispatchEvent(new CustomEvent('catalog'));
  }

  #refreshRemoteCatalogSoon() {
    if (this.#catalogTimer) return;
    this.#catalogTimer = setTimeout(() => {
      this.#catalogTimer = null;
      this.refreshRemoteCatalog().catch(() => { /* next change or reconnect retries */ });
    }, 0);
  }

  /**
   * Run a script.  Resolves with {results: [result per statement], ms};
   * a result is {statement, site ('local'|'remote'|'server'), columns:
   * [{name, type}], rows: first DISPLAY_ROWS as objects, rowCount, ms,
   * bytes (received from the server), cacheTable (remote results: the
   * local table holding the whole result)}.
   * handlers: onStatement(stmt), onProgress({percent}), onRows(partial
   * result with the first rows, as soon as they are cached).
   */
  async run(sql, handlers = {}) {
    if (this.#running) throw fail('INVALID_ARGUMENT', 'a query is already running: wait for it or cancel it');
    const t0 = performance.now();
    // Route the whole script without keeping anything: if one statement
    // cannot run (MIXED, ERROR, a lexing error), none runs.
    let plan;
    try {
      plan = this.engine.route(sql, { dryRun: true });
    } catch (e) {
      throw fail(e.code ?? 'SQL_ERROR', e.message, e.position);
    }
    if (plan.error) {
      const st = plan.statements[plan.error.statement];
      throw fail(plan.error.code, plan.error.message, plan.error.position ?? st?.start);
    }
    // Then statement by statement, so that the engine's state (current
    // database, transaction, catalog changes) only ever holds what ran.
    const results = [];
    let localChanged = false;
    this.#running = { cancel: () => false };
    try {
      for (const planned of plan.statements) {
        const before = this.engine.state();
        const original = sql.slice(planned.start, planned.end);
        const st = { ...this.engine.route(original).statements[0], index: planned.index, start: planned.start, end: planned.end, original };
        handlers.onStatement?.(st);
        try {
          const run = st.route === 'local' ? this.#runLocal(st, handlers)
            : st.route === 'hybrid' ? this.#runHybrid(st, handlers) : this.#runRemote(st, handlers);
          results.push(await run);
          if (st.mirror) await this.#mirror(st, results.at(-1));
        } catch (e) {
          this.engine.setState(before);
          if (e.connectionReplaced) { // a new local connection: put back the local current database
            await this.local.use(before.local.database, before.local.schema).catch(() => {});
          }
          await Promise.allSettled([this.refreshLocalCatalog(), this.refreshRemoteCatalog()]);
          if (st.route === 'hybrid') delete e.position; // it points into a fragment, not the user's text
          throw this.#positioned(e, sql, st);
        }
        if (st.kind !== 'query' && (st.route === 'local' || st.route === 'hybrid')) localChanged = true;
      }
    } finally {
      this.#running = null;
    }
    if (localChanged) await this.refreshLocalCatalog();
    return { results, ms: performance.now() - t0 };
  }

  /** An error of statement `st` with its position made relative to the script. */
  #positioned(e, sql, st) {
    const err = fail(e.code ?? 'INTERNAL', e.message);
    if (e.type) err.type = e.type;
    if (e.connectionReplaced) err.connectionReplaced = true;
    if (typeof e.position === 'number' && e.position >= 0) {
      const original = sql.slice(st.start, st.end);
      err.position = st.start + (original === st.sql ? byteToIndex(st.sql, e.position) : 0);
    }
    return err;
  }

  /** Cancel the running statement.  Returns whether something was cancelled. */
  cancel() {
    return this.#running ? this.#running.cancel() : false;
  }

  /** A session option (st.mirror) ran at its site: run it at the other too,
   * so that a split query sees it at both. The statement's answer stays its
   * own site's; a refusal there (duckdb-wasm has no ICU for TimeZone) becomes
   * the result's notice. */
  async #mirror(st, result) {
    const toLocal = st.route !== 'local';
    try {
      if (toLocal) await this.local.stream(st.sql, {});
      else await this.remote.query(st.sql, {}).done;
    } catch (e) {
      result.notice = `${st.verb} ran ${toLocal ? 'on the server' : 'in the browser'}; `
        + `${toLocal ? 'the browser' : 'the server'} refused it: ${e.message}`;
    }
  }

  async #runLocal(st, handlers) {
    const t0 = performance.now();
    const rows = [];
    let columns = [];
    this.#running = { cancel: () => this.local.cancel() };
    const { rows: rowCount } = await this.local.stream(st.sql, {
      onSchema: (fields) => { columns = columnsOf(fields); },
      onBatch: (batch) => {
        for (let i = 0; i < batch.numRows && rows.length < DISPLAY_ROWS; i++) rows.push(batch.get(i).toJSON());
      },
    });
    return { statement: st.index, site: 'local', columns, rows, rowCount, ms: performance.now() - t0, bytes: 0, cacheTable: null };
  }

  async #runRemote(st, handlers) {
    const t0 = performance.now();
    const name = `r${++this.#resultSeq}`;
    const cacheTable = LocalDb.cacheTable(name);
    let writer = null;
    const showFirstRows = async () => {
      try {
        const preview = await this.#preview(cacheTable);
        handlers.onRows?.({ statement: st.index, site: st.route, cacheTable: `${CACHE_DB}.main.${name}`, ...preview });
      } catch { /* the final read reports problems */ }
    };
    const req = this.remote.query(st.sql, {
      onSchema: (bytes) => {
        writer = this.local.cacheWriter(name, bytes, {
          onGroup: (n) => { if (n === 1 && handlers.onRows) showFirstRows(); },
        });
      },
      onBatch: (bytes) => writer.write(bytes),
      onProgress: (p) => handlers.onProgress?.(p),
    });
    this.#running = { cancel: () => req.cancel() };
    let end;
    try {
      end = await req.done;
      await writer?.end();
    } catch (e) { // no partial result stays in the cache
      if (writer) {
        await writer.end().catch(() => {});
        await this.local.query(`DROP TABLE IF EXISTS ${cacheTable}`).catch(() => {});
      }
      if (e.code === 'SQL_ERROR' && writer?.error === e) {
        throw fail('UNSUPPORTED', `the result arrived but could not be cached in the browser: ${e.message}`);
      }
      throw e;
    }
    const preview = writer ? await this.#preview(cacheTable) : { columns: [], rows: [] };
    return {
      statement: st.index, site: st.route, ...preview, rowCount: end.rows, ms: performance.now() - t0,
      bytes: end.frameBytes, serverMs: end.ms, cacheTable: writer ? `${CACHE_DB}.main.${name}` : null,
    };
  }

  /**
   * A statement that reads both sites (see the top of this file).  A bridge
   * that fails to bind (a part the splitter took for self-contained was
   * not) makes the statement run again as a fallback plan.  EXPLAIN answers
   * the dual plan; EXPLAIN ANALYZE runs it and adds what each bridge and the
   * final query measured.
   */
  async #runHybrid(st, handlers) {
    const t0 = performance.now();
    let flags = 2; // bridges into the browser are md_cache tables
    for (let attempt = 0; ; attempt++) {
      const prep = this.engine.splitPrepare(st.original);
      const ast = await this.remote.parse(prep.query);
      const planText = this.engine.splitPlan(st.original, ast, { flags, queryId: ++this.#querySeq });
      const plan = this.engine.splitFinish(planText, await this.remote.deparse(JSON.parse(planText).deparse));
      const hybrid = { mode: plan.mode, reason: plan.reason, root: plan.root, bytesUp: 0, bytesDown: 0, bridges: [] };
      if (plan.explain === 'plan') return this.#plan(st, 'dual_plan', plan.plan_text.join('\n'), hybrid, t0);
      let retry = false;
      // Into a server root, the uploads and the final query are sent back to back and awaited after
      // (the server runs them in order): no round trip per bridge.  EXPLAIN ANALYZE times each.
      const pipelined = plan.root !== 'local' && plan.explain !== 'analyze';
      const uploads = [];
      try {
        for (const b of plan.bridges) {
          const b0 = performance.now();
          const moved = b.from === 'remote' ? await this.#bridgeDown(b) : await this.#bridgeUp(b);
          if (b.from === 'remote') hybrid.bytesDown += moved.bytes;
          else hybrid.bytesUp += moved.bytes;
          if (pipelined && moved.done) uploads.push(moved.done);
          else await moved.done;
          hybrid.bridges.push({ ...b, rows: moved.rows, bytes: moved.bytes, ms: performance.now() - b0 });
        }
        // A table the statement names by value (query_table('t')) is found under its own name: in the
        // browser its bridge is an md_cache table, shown in temp under that name.
        for (const b of plan.bridges.filter(needsView)) {
          await this.local.query(`CREATE TEMP VIEW ${ident(b.alias)} AS SELECT * FROM ${ident(CACHE_DB)}.main.${ident(b.name)}`);
        }
      } catch (e) {
        await Promise.allSettled(uploads);
        await this.#dropBridges(plan);
        retry = attempt === 0 && e.code === 'SQL_ERROR' && /Binder Error|not found in FROM|does not exist/.test(e.message);
        if (!retry) throw e;
      }
      if (retry) {
        flags |= 1;
        continue;
      }
      try {
        const f0 = performance.now();
        const analyze = plan.explain === 'analyze';
        const fin = { ...st, sql: analyze ? `EXPLAIN ANALYZE ${plan.final.sql}` : plan.final.sql, route: plan.root };
        let out;
        try {
          const h = analyze ? {} : handlers; // the plan is the answer, not the final step's rows
          const final = plan.root === 'local' ? this.#runLocal(fin, h) : this.#runRemote(fin, h);
          if (uploads.length) { // an upload's error is the statement's (the final query then fails too)
            final.catch(() => {});
            await Promise.all(uploads);
          }
          out = await final;
        } catch (e) {
          // A final query that does not bind runs again as the fallback plan.
          if (attempt === 0 && e.code === 'SQL_ERROR' && /Binder Error|not found in FROM|does not exist/.test(e.message)) {
            flags |= 1;
            continue;
          }
          throw e;
        }
        hybrid.finalMs = performance.now() - f0;
        if (analyze) {
          const lines = [...plan.plan_text,
            ...hybrid.bridges.map((b) => `BRIDGE ${b.name} ${b.from === 'remote' ? 'R->L' : 'L->R'}: ${b.rows} rows, ${b.bytes} bytes, ${b.ms.toFixed(1)} ms`),
            `FINAL (${plan.root === 'local' ? 'L' : 'R'}): ${hybrid.finalMs.toFixed(1)} ms, its plan:`,
            out.rows[0]?.explain_value ?? '(DuckDB gave no plan text)'];
          return this.#plan(st, 'analyzed_plan', lines.join('\n'), hybrid, t0);
        }
        return { ...out, statement: st.index, site: 'hybrid', hybrid, ms: performance.now() - t0 };
      } finally {
        await this.#dropBridges(plan);
      }
    }
  }

  /** Server -> browser: a fragment's result into md_cache.main.<name>. */
  async #bridgeDown(b) {
    let writer = null;
    let bytes = 0;
    const req = this.remote.query(b.sql, {
      onSchema: (s) => { bytes += s.length; writer = this.local.cacheWriter(b.name, s); },
      onBatch: (x) => {
        bytes += x.length;
        if (bytes > this.bridgeCap) throw this.#tooLarge(b, bytes);
        writer.write(x);
      },
    });
    this.#running = { cancel: () => req.cancel() };
    const end = await req.done.catch(async (e) => {
      if (writer) await writer.end().catch(() => {});
      throw e;
    });
    await writer?.end();
    return { rows: end.rows, bytes: end.frameBytes ?? bytes };
  }

  /**
   * Browser -> server: a fragment's result uploaded into the session's temp.main.<name>.  Resolves
   * once it is sent, with done: the upload's answer.
   */
  async #bridgeUp(b) {
    const table = await this.local.query(b.sql);
    const ipc = tableToIPC(table, 'stream'); // an empty result is its schema alone: an empty table upstream
    if (ipc.length > this.bridgeCap) throw this.#tooLarge(b, ipc.length);
    const done = this.remote.upload(b.name, ipc, { catalog: false });
    done.catch(() => {}); // awaited by the caller; never an unhandled rejection meanwhile
    return { rows: table.numRows, bytes: ipc.length, done };
  }

  #tooLarge(b, bytes) {
    return fail('TOO_LARGE', `moving ${b.relation} between the browser and the server would pass the cap of `
      + `${fmtSize(this.bridgeCap)} (at least ${fmtSize(bytes)}): filter it more, or raise the cap`);
  }

  async #dropBridges(plan) {
    const names = plan.bridges.map((b) => b.name);
    if (!names.length) return;
    if (plan.root === 'local') {
      for (const b of plan.bridges.filter(needsView)) {
        await this.local.query(`DROP VIEW IF EXISTS temp.main.${ident(b.alias)}`).catch(() => {});
      }
      for (const n of names) await this.local.query(`DROP TABLE IF EXISTS ${ident(CACHE_DB)}.main.${ident(n)}`).catch(() => {});
    } else {
      // not awaited: the server runs it before this session's next request
      const sql = names.map((n) => `DROP TABLE IF EXISTS temp.main.${ident(n)}`).join('; ');
      this.remote.query(sql, { catalog: false }).done.catch(() => {});
    }
  }

  /** The dual plan of EXPLAIN, in DuckDB's EXPLAIN shape: one row of explain_key, explain_value. */
  #plan(st, key, text, hybrid, t0) {
    return {
      statement: st.index, site: 'hybrid', hybrid,
      columns: [{ name: 'explain_key', type: 'Utf8' }, { name: 'explain_value', type: 'Utf8' }],
      rows: [{ explain_key: key, explain_value: text }], rowCount: 1,
      ms: performance.now() - t0, bytes: 0, cacheTable: null,
    };
  }

  async #preview(cacheTable) {
    const t = await this.local.query(`SELECT * FROM ${cacheTable} LIMIT ${DISPLAY_ROWS}`);
    return { columns: columnsOf(t.schema.fields), rows: t.toArray().map((r) => r.toJSON()) };
  }

  /** Register a dropped or picked File in duckdb-wasm; returns the SQL to read it. */
  async addFile(file) {
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
