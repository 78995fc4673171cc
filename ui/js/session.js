// session.js: the main thread's end of the session worker
// (session.worker.js, which says what each message means).  page.js uses
// it as it used the session itself: start, run, cancel, addFile; the
// connection's state comes as 'status' events.
//
// Every failure is an Error with the stable code of shared/md_error.h
// (MdError, errors.js), message and, when it points into the SQL, position.

import { MdError, mdError } from './errors.js';

export class Session extends EventTarget {
  #worker;
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, handlers}
  #running = false;

  constructor(worker) {
    super();
    this.#worker = worker;
    worker.onmessage = ({ data: msg }) => this.#onMessage(msg);
    worker.onerror = (ev) => {
      const e = mdError('INTERNAL', `the session worker failed: ${ev.message}`);
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    /** {user, read_only, ...} of the server's WELCOME; the duckdb-wasm build; start-up
     * timings; rows a result keeps for display. */
    this.welcome = null;
    this.bundle = null;
    this.timings = {};
    this.displayRows = 0;
  }

  /**
   * Start a session in a new worker.  Rejects (the worker stopped) with code
   * AUTH_FAILED for a bad token.
   * @param {{token: string}} options
   */
  static async start({ token }) {
    const s = new Session(new Worker(new URL('./session.worker.js', import.meta.url), { type: 'module' }));
    try {
      const info = await s.#request('start', { token });
      Object.assign(s, info);
      return s;
    } catch (e) {
      s.#worker.terminate();
      throw e;
    }
  }

  #request(type, data, handlers = {}) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, handlers });
      this.#worker.postMessage({ id, type, data });
    });
  }

  #onMessage({ id, type, data }) {
    if (type === 'status' || type === 'catalog') {
      this.dispatchEvent(new CustomEvent(type, { detail: data }));
      return;
    }
    const p = this.#pending.get(id);
    if (!p) return;
    if (type === 'ok' || type === 'error') {
      this.#pending.delete(id);
      if (type === 'ok') p.resolve(data);
      else p.reject(new MdError(data));
      return;
    }
    const handler = { statement: 'onStatement', progress: 'onProgress', rows: 'onRows' }[type];
    if (handler) p.handlers[handler]?.(data);
  }

  /**
   * Run a script (runtime.js: run): resolves with {results, ms}.
   * handlers: onStatement({index, route}), onProgress({percent}), onRows(first rows).
   * resultName: the last result stays queryable by that name (a named cell's);
   * keep: which results stay cached (runtime.js run: 'last', 'none').
   */
  async run(sql, handlers = {}, { resultName, keep } = {}) {
    this.#running = true;
    try {
      return await this.#request('run', { sql, resultName, keep }, handlers);
    } finally {
      this.#running = false;
    }
  }

  /** Ask the running script to stop.  Returns whether one was running. */
  cancel() {
    if (!this.#running) return false;
    this.#request('cancel').catch(() => {});
    return true;
  }

  /** Both sites' catalogs as the engine caches them: {databases: [{name, site, schemas}]}. */
  catalog() {
    return this.#request('catalog');
  }

  /** Drop a result's cache table in duckdb-wasm (a cell re-ran or went away). */
  dropResult(cacheTable) {
    return this.#request('dropResult', { cacheTable });
  }

  /** A request of the results panel about a cached result ({op, ...}, result_views.js). */
  panel(request) {
    return this.#request('panel', request);
  }

  /** A request about the user's notebooks ({op, ...}, server/notebooks.h); resolves with the server's answer. */
  notebook(request) {
    return this.#request('notebook', { request });
  }

  /** A request about the user's query history ({op, ...}, server/history.h). */
  history(request) {
    return this.#request('history', { request });
  }

  /** The statements of `sql` as the engine's lexer splits them: [{start, end}] (string indices). */
  statements(sql) {
    return this.#request('statements', { sql });
  }

  /** Register a dropped or picked File in duckdb-wasm; resolves with the SQL to read it. */
  addFile(file) {
    return this.#request('addFile', { file });
  }

  /** Stop the session and its worker. */
  async close() {
    await this.#request('close').catch(() => {});
    this.#worker.terminate();
  }
}
