// localdb.js: the local site: duckdb-wasm 1.32.0, in the page served by
// mdserver under /vendor/duckdb and running in a Worker (LocalDb.open), or
// its Node build for build/slt-wasm (LocalDb.over an instance made there).
//
// - Bundle: the multi-threaded COI build when the page is cross-origin
//   isolated (mdserver sends COOP/COEP, so it normally is), else the
//   single-threaded exception-handling (eh) build.  duckdb-wasm's own
//   selectBundle decides from the browser's features.
// - Settings applied before any user SQL: one thread in the COI build (see
//   LocalDb.over: several gave wrong results); extension autoload and autoinstall
//   off (offline, an autoload attempt hangs or fails misleadingly) and
//   errors_as_json on, so errors keep DuckDB's position.
// - Remote results are cached in the attached in-memory database CACHE_DB
//   (md_cache), one table per result, filled batch by batch from Arrow IPC.
//
// Every error thrown here is an MdError (errors.js) {code, message,
// position?, type?}, as the server's ERROR payload, so the page shows both alike.

import { MdError, mdError } from './errors.js';
import { plain } from './rows.js';
import { ARROW_EOS } from './wire.js';

export const CACHE_DB = 'md_cache';

/**
 * Turn duckdb-wasm's exception into an MdError.  With errors_as_json the
 * message is a JSON object (exception_type, exception_message, position as
 * a string), possibly behind a prefix; otherwise plain text.
 */
export function localError(e) {
  if (e instanceof MdError) return e;
  const text = String(e?.message ?? e);
  const brace = text.indexOf('{');
  if (brace >= 0) {
    try {
      const j = JSON.parse(text.slice(brace));
      if (typeof j.exception_type === 'string' && typeof j.exception_message === 'string') {
        const code = j.exception_type === 'Interrupt' ? 'CANCELLED' : 'SQL_ERROR';
        const pos = j.position === undefined ? undefined : Number(j.position);
        return new MdError({
          code, type: j.exception_type, position: Number.isFinite(pos) ? pos : undefined,
          message: `${j.exception_type} Error: ${j.exception_message}`,
        });
      }
    } catch { /* not JSON: fall through */ }
  }
  return new MdError({ code: 'SQL_ERROR', message: text });
}

/** Quote an identifier for DuckDB. */
export function ident(name) {
  return `"${String(name).replaceAll('"', '""')}"`;
}

/** Quote a string literal for DuckDB. */
export function literal(text) {
  return `'${String(text).replaceAll("'", "''")}'`;
}

// Settings of one connection (the others are global).
const SESSION_SETTINGS = 'SET errors_as_json = true';

const rowsOf = (table) => table.toArray().map((r) => r.toJSON());

/** A promise of fn()'s result, called now: the browser's connection answers
 * with promises, the Node build's at once (or by throwing). */
function promised(fn) {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The byte arrays `parts` one after another. */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The IPC stream inside an Arrow IPC file: the file is "ARROW1", padding, the
 * stream (with its end marker), the footer, the footer's length, "ARROW1".
 */
function fileToStream(file) {
  const n = file.length;
  const magic = (at) => String.fromCharCode(...file.subarray(at, at + 6)) === 'ARROW1';
  if (n < 18 || !magic(0) || !magic(n - 6)) throw mdError('INTERNAL', 'duckdb-wasm answered something that is not an Arrow IPC file');
  const footer = new DataView(file.buffer, file.byteOffset + n - 10, 4).getInt32(0, true);
  if (footer < 0 || 8 + footer > n - 10) throw mdError('INTERNAL', 'the Arrow IPC file from duckdb-wasm has a bad footer length');
  return file.subarray(8, n - 10 - footer);
}

/**
 * The result of `sql` on duckdb-wasm connection id `conn` as duckdb-wasm
 * hands it over: its IPC messages (the schema, then one record batch each),
 * each also pushed onto `keep` and given to `onMessage` when they are.  The
 * query runs as a pending query, polled: the duckdb-wasm worker answers
 * other connections' requests between polls.  (AsyncDuckDBConnection.send
 * does the same, but gives only the decoded batches.)
 */
async function* messages(db, conn, sql, keep, onMessage) {
  let header = await db.startPendingQuery(conn, sql, true);
  while (header == null) header = await db.pollPendingQuery(conn);
  keep?.push(header);
  onMessage?.(header, 0);
  yield header;
  for (let n = 1; ; n++) {
    const message = await db.fetchQueryResults(conn);
    if (message == null) { n--; continue; } // not ready yet
    if (message.length === 0) return;
    keep?.push(message);
    onMessage?.(message, n);
    yield message;
  }
}

/**
 * Cancelling the query running on duckdb-wasm connection `conn`:
 * {cancel(), cancelled, settle()}.  duckdb-wasm cancels only a query that
 * is already pending in its worker (cancelSent answers false before that):
 * cancel() keeps asking until it took or the query settled (settle()).
 */
function cancellation(conn) {
  let settled = false;
  const me = {
    cancelled: false,
    cancel() {
      me.cancelled = true;
      const ask = () => promised(() => conn.cancelSent()).then(
        (ok) => { if (!ok && !settled) setTimeout(ask, 30); },
        () => { if (!settled) setTimeout(ask, 30); },
      );
      ask();
    },
    settle() { settled = true; },
  };
  return me;
}

/**
 * A connection of its own to the local database (the results panel's):
 * quick queries (query, rows, ipc: they hold the duckdb-wasm worker until
 * they end) and long ones (long: polled, so other connections' queries go
 * on meanwhile, and cancellable).  Its session state (temporary tables,
 * the current database) is its own.
 */
export class LocalConnection {
  #db;
  #conn;
  #lib;
  #long = null; // the running long(): {cancel()}

  constructor(lib, db, conn) {
    this.#lib = lib;
    this.#db = db;
    this.#conn = conn;
  }

  /** Run SQL to completion; resolves to an Arrow Table (duckdb-wasm's). */
  async query(sql) {
    try {
      return await this.#conn.query(sql);
    } catch (e) {
      throw localError(e);
    }
  }

  /** Run SQL to completion; resolves to its rows as objects of plain values (rows.js plain). */
  async rows(sql) {
    return rowsOf(await this.query(sql)).map(plain);
  }

  /** Run SQL to completion; resolves to its result as an Arrow IPC file (DuckDB's own bytes). */
  async ipcFile(sql) {
    try {
      return await this.#db.runQuery(this.#conn._conn, sql);
    } catch (e) {
      throw localError(e);
    }
  }

  /** Run SQL to completion; resolves to its result as DuckDB's own Arrow IPC stream. */
  async ipc(sql) {
    try {
      return fileToStream(await this.#db.runQuery(this.#conn._conn, sql));
    } catch (e) {
      throw localError(e);
    }
  }

  /**
   * Run a long statement, polled (see messages); resolves to its rows as
   * objects.  cancel() stops it: it then rejects with code CANCELLED.
   */
  async long(sql) {
    const me = cancellation(this.#conn);
    this.#long?.cancel();
    this.#long = me;
    try {
      const rows = [];
      const reader = await this.#lib.RecordBatchReader.from(messages(this.#db, this.#conn._conn, sql));
      for await (const batch of reader) {
        if (me.cancelled) break;
        for (let i = 0; i < batch.numRows; i++) rows.push(plain(batch.get(i)));
      }
      if (me.cancelled) throw mdError('CANCELLED');
      return rows;
    } catch (e) {
      if (me.cancelled) throw mdError('CANCELLED');
      throw localError(e);
    } finally {
      me.settle();
      if (this.#long === me) this.#long = null;
    }
  }

  /** Cancel the running long(), if any. */
  cancel() {
    this.#long?.cancel();
  }

  /**
   * Write the result of `sql` as a file with DuckDB's COPY (`options`, e.g.
   * "FORMAT csv, HEADER") and resolve to its bytes.
   */
  async copyTo(sql, options) {
    const name = `md_export_${Math.random().toString(36).slice(2)}`;
    try {
      await this.#conn.query(`COPY (${sql}) TO ${literal(name)} (${options})`);
      return await this.#db.copyFileToBuffer(name);
    } catch (e) {
      throw localError(e);
    } finally {
      await promised(() => this.#db.dropFile(name)).catch(() => {});
    }
  }

  async close() {
    try { await this.#conn.close(); } catch { /* the worker may be gone */ }
  }
}

export class LocalDb {
  #db;
  #conn;
  #retired = [];     // connections left to a cancelled query (COI build)
  #cacheConn;        // a second connection whose current database is CACHE_DB
  #worker;
  #pending = null;   // a running stream(): {cancel()}
  #lib;              // duckdb-wasm's module: {DuckDBDataProtocol, RecordBatchReader, ...}

  constructor(lib, db, conn, cacheConn, worker, bundle) {
    this.#lib = lib;
    this.#db = db;
    this.#conn = conn;
    this.#cacheConn = cacheConn;
    this.#worker = worker;
    /** 'coi', 'eh' or 'node': which duckdb-wasm build runs. */
    this.bundle = bundle;
  }

  /**
   * Start duckdb-wasm.  `base` is where mdserver serves its files.
   * Resolves to a LocalDb with one connection, settings applied.
   */
  static async open({ base = new URL('/vendor/duckdb/', location.href).href } = {}) {
    const duckdb = await import('/vendor/duckdb/duckdb.mjs');
    const file = (f) => new URL(f, base).href;
    const eh = { mainModule: file('duckdb-eh.wasm'), mainWorker: file('duckdb-browser-eh.worker.js') };
    const bundle = await duckdb.selectBundle({
      mvp: eh, // mdserver ships no MVP build: every browser it supports has wasm exceptions
      eh,
      coi: {
        mainModule: file('duckdb-coi.wasm'),
        mainWorker: file('duckdb-browser-coi.worker.js'),
        pthreadWorker: file('duckdb-browser-coi.pthread.worker.js'),
      },
    });
    const worker = new Worker(bundle.mainWorker);
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
    try {
      await db.instantiate(bundle.mainModule, bundle.pthreadWorker);
    } catch (e) {
      worker.terminate();
      throw localError(e);
    }
    return LocalDb.over(duckdb, db, worker, bundle.pthreadWorker ? 'coi' : 'eh');
  }

  /**
   * The local site over an instantiated duckdb-wasm database `db` (the
   * browser's AsyncDuckDB, or the Node build's) of module `lib`; `worker`
   * (or null) is stopped with it.
   */
  static async over(lib, db, worker, bundle) {
    try {
      const conn = await db.connect();
      // The COI build with several threads goes wrong after a large CREATE
      // TABLE (duckdb-wasm issue 2256; tests/browser/duckdb_wasm.test.mjs
      // measures it): one thread, which was as fast here (inserting a 1M-row
      // result took 320-480 ms with 1 or 2 threads, 600-880 ms with 4).
      const threads = bundle === 'coi' ? 'SET threads = 1; ' : '';
      await conn.query(`${threads}SET autoload_known_extensions = false; SET autoinstall_known_extensions = false; `
        + `${SESSION_SETTINGS}; ATTACH ':memory:' AS ${ident(CACHE_DB)}`);
      // insertArrowFromIPCStream has no database option: it creates tables in
      // the connection's current database, so cache inserts use their own.
      const cacheConn = await db.connect();
      await cacheConn.query(`USE ${ident(CACHE_DB)}`);
      return new LocalDb(lib, db, conn, cacheConn, worker, bundle);
    } catch (e) {
      worker?.terminate();
      throw localError(e);
    }
  }

  /** DuckDB's version string ("v1.4.x"). */
  async version() {
    return (await this.query('SELECT version() AS v')).toArray()[0].v;
  }

  /**
   * Run SQL to completion; resolves to {rows, ipc}: its result as an Arrow IPC
   * stream.  The bytes are DuckDB's own, never re-encoded by Arrow JS (whose
   * writer, in the version duckdb-wasm bundles, keeps 12 of the 16 bytes of a
   * month-day-nano interval).
   */
  async ipc(sql) {
    let file;
    try {
      file = await this.#db.runQuery(this.#conn._conn, sql); // duckdb-wasm's connection id
    } catch (e) {
      throw localError(e);
    }
    const ipc = fileToStream(file);
    let rows = 0;
    for (const batch of this.#lib.RecordBatchReader.from(ipc)) rows += batch.numRows;
    return { rows, ipc };
  }

  /** Run SQL to completion; resolves to an Arrow Table (duckdb-wasm's). */
  async query(sql) {
    try {
      return await this.#conn.query(sql);
    } catch (e) {
      throw localError(e);
    }
  }

  /**
   * Run one statement, streaming its result: onSchema(fields) once (before
   * the first batch; never for a result without batches), then
   * onBatch(recordBatch) per batch.  cancel() stops it (the promise then
   * rejects with code CANCELLED).  Resolves to {rows}, and with keepIpc to
   * {rows, ipc}: the whole result as DuckDB's own Arrow IPC stream.
   * onMessage(bytes, index) sees each of that stream's messages (0: the
   * schema) as it arrives.
   */
  async stream(sql, { onSchema, onBatch, onMessage, keepIpc = false } = {}) {
    const me = cancellation(this.#conn);
    this.#pending = me;
    try {
      const kept = keepIpc ? [] : null;
      const reader = await this.#lib.RecordBatchReader.from(messages(this.#db, this.#conn._conn, sql, kept, onMessage));
      let rows = 0;
      let schemaSent = false;
      if (reader.schema) {
        onSchema?.(reader.schema.fields);
        schemaSent = true;
      }
      for await (const batch of reader) {
        if (me.cancelled) throw mdError('CANCELLED');
        if (!schemaSent) {
          onSchema?.(batch.schema.fields);
          schemaSent = true;
        }
        rows += batch.numRows;
        onBatch?.(batch);
      }
      if (me.cancelled) throw mdError('CANCELLED');
      return kept ? { rows, ipc: concat([...kept, ARROW_EOS]) } : { rows };
    } catch (e) {
      const err = localError(e);
      if (!me.cancelled) throw err;
      const cancelledErr = mdError('CANCELLED');
      if (this.bundle === 'coi') {
        // The COI build stops polling a cancelled query but its threads run
        // it to the end, and the connection (even closing it) waits for
        // that.  Leave it to finish in the background and go on with a new
        // connection: its session state (current database, temporary
        // tables) starts afresh; the error says so (connectionReplaced), and
        // the driver puts the current database back.
        await this.#replaceConnection();
        cancelledErr.connectionReplaced = true;
        cancelledErr.message = 'the query was cancelled (it may keep the local engine busy until it ends)';
      }
      throw cancelledErr;
    } finally {
      me.settle();
      if (this.#pending === me) this.#pending = null;
    }
  }

  async #replaceConnection() {
    this.#retired.push(this.#conn); // never closed: closing would wait for the query
    this.#conn = await this.#db.connect();
    await this.#conn.query(SESSION_SETTINGS);
  }


  /** Cancel the running stream(), if any.  Returns whether there was one. */
  cancel() {
    if (!this.#pending) return false;
    this.#pending.cancel();
    return true;
  }

  /**
   * A writer that fills the cache table CACHE_DB.main.<table> from an Arrow
   * IPC stream arriving message by message (a RESULT_SCHEMA payload, then
   * RESULT_BATCH payloads):
   *
   *   const w = local.cacheWriter('r1', schemaBytes);
   *   w.write(batchBytes) ... ; await w.end();
   *
   * Batches are inserted in groups, each sent to the worker as one complete
   * IPC stream (schema, batches, end marker) while later batches keep
   * arriving: the first group holds only the first batch (first rows
   * early), later ones about `groupBytes` each.  The first group creates the
   * table.  (duckdb-wasm 1.32 can also take a stream in pieces, but its
   * decoder keeps pointers into each piece's buffer after freeing it, which
   * corrupts the data: every call here is a whole stream.)  onGroup(n) is
   * called after the n-th group is in; end() resolves when every row is in,
   * or rejects with the first error (later writes are then dropped).
   */
  cacheWriter(table, schemaBytes, { groupBytes = 4 << 20, onGroup } = {}) {
    const conn = this.#cacheConn;
    const eos = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let parts = [];
    let pendingBytes = 0;
    let groups = 0;
    let error = null;
    // The worker answers in order, so the last insert's promise settles
    // after all earlier ones.
    let last = Promise.resolve();
    const flush = () => {
      const bytes = new Uint8Array(schemaBytes.length + pendingBytes + eos.length);
      bytes.set(schemaBytes, 0);
      let o = schemaBytes.length;
      for (const p of parts) { bytes.set(p, o); o += p.length; }
      bytes.set(eos, o);
      parts = [];
      pendingBytes = 0;
      const n = ++groups;
      if (error) return;
      last = promised(() => conn.insertArrowFromIPCStream(bytes, { name: table, schema: 'main', create: n === 1 }))
        .then(() => { if (!error) onGroup?.(n); }, (e) => { error = error ?? localError(e); });
    };
    return {
      write(bytes) {
        if (error) throw error;
        parts.push(bytes);
        pendingBytes += bytes.length;
        if (groups === 0 || pendingBytes >= groupBytes) flush();
      },
      async end() {
        if (parts.length || groups === 0) flush(); // no rows: the table still gets its columns
        await last;
        if (error) throw error;
      },
      get error() { return error; },
    };
  }

  /** Full name of a cache table, quoted, for SQL. */
  cacheTable(table) {
    return `${ident(CACHE_DB)}.main.${ident(table)}`;
  }

  /** Full name of a cache table as the user writes it. */
  cacheName(table) {
    return `${CACHE_DB}.main.${table}`;
  }

  /**
   * Make a browser File (dropped or picked) readable by DuckDB under its
   * name: FROM 'name.csv' (read_csv_auto) then works locally.
   */
  async registerFile(file) {
    try {
      await this.#db.registerFileHandle(file.name, file, this.#lib.DuckDBDataProtocol.BROWSER_FILEREADER, true);
    } catch (e) {
      throw localError(e);
    }
  }

  /**
   * Read a JSON file (an array of objects, or one object per line) into the
   * cache table `table` with duckdb-wasm's own JSON reader: DuckDB's json
   * extension, which `read_json` needs, cannot be loaded offline.
   */
  async importJson(file, table) {
    let text = await file.text();
    if (!text.trimStart().startsWith('[')) text = `[${text.split('\n').filter((l) => l.trim()).join(',')}]`;
    const name = `${table}.import.json`;
    try {
      await this.#db.registerFileText(name, text);
      await this.#cacheConn.query(`DROP TABLE IF EXISTS ${ident(table)}`);
      await this.#cacheConn.insertJSONFromPath(name, { name: table, schema: 'main' });
    } catch (e) {
      throw localError(e);
    } finally {
      await this.#db.dropFile(name).catch(() => {});
    }
  }

  /** A new connection of its own (LocalConnection), with the page's settings. */
  async connect() {
    try {
      const conn = await this.#db.connect();
      await conn.query(SESSION_SETTINGS);
      return new LocalConnection(this.#lib, this.#db, conn);
    } catch (e) {
      throw localError(e);
    }
  }

  /** The rows of an Arrow IPC stream given as its messages (schema, batches), as objects of plain values. */
  readIpc(messages) {
    const rows = [];
    for (const batch of this.#lib.RecordBatchReader.from(concat([...messages, ARROW_EOS]))) {
      for (let i = 0; i < batch.numRows; i++) rows.push(plain(batch.get(i)));
    }
    return rows;
  }

  /** Bytes DuckDB's in-memory tables hold (the cache's among them). */
  async tableBytes() {
    const t = await this.query("SELECT memory_usage_bytes::DOUBLE AS b FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'");
    return t.numRows ? Number(t.get(0).b) : 0;
  }

  /** Run SQL to completion; resolves to its rows as arrays of plain values. */
  async rows(sql) {
    return rowsOf(await this.query(sql)).map((r) => Object.values(r));
  }

  /** Stop the worker. */
  async close() {
    try {
      await this.#cacheConn.close();
      await this.#conn.close();
    } catch { /* the worker may be gone */ }
    await this.#db.terminate?.(); // (the Node build has no worker to stop)
  }
}
