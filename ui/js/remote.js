// remote.js: the page's connection to mdserver (shared/protocol.h frames over
// one WebSocket, ui/js/wire.js codec).
//
// - connect(): HELLO with the token, resolves with the WELCOME payload.  A
//   refused token (AUTH_FAILED) rejects and never reconnects.
// - query(sql, handlers): one request id per QUERY; RESULT_SCHEMA,
//   RESULT_BATCH, PROGRESS and RESULT_END go to the handlers as they arrive
//   (streaming); `done` resolves after the final RESULT_END or rejects with
//   the ERROR payload as an MdError.  cancel() sends CANCEL for that id.
// - catalog(): a CATALOG request; resolves with the server's catalog JSON.
// - notebook(request), history(request): a NOTEBOOK or HISTORY request
//   (the user's notebooks, query history); resolves with the answer.
//   The server pushes CATALOG with id 0 when its catalog changed: that is a
//   'catalog-changed' event.
// - A connection lost after login fails every pending request with code
//   DISCONNECTED and is re-established with exponential backoff (250 ms
//   doubling to 8 s, with jitter); 'status' events say what is happening
//   and 'reconnected' follows a new WELCOME (the page then refreshes its
//   catalog).  Requests made while disconnected fail at once with
//   DISCONNECTED: nothing is queued behind the user's back.

import { MdError, mdError } from './errors.js';
import { MSG, MSG_NAME, decodeFrame, encodeFrame, endsRequest } from './wire.js';

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 8000;

const disconnected = (why) => mdError('DISCONNECTED', why);

export class RemoteSession extends EventTarget {
  #url;
  #token;
  #ws = null;
  #nextId = 1;
  #requests = new Map();   // id -> {onFrame(frame), fail(err)}
  #closedByUser = false;
  #attempt = 0;
  #timer = null;
  #hello = null;           // {resolve, reject} while awaiting WELCOME

  /**
   * @param {string} url ws://host:port/ws
   * @param {string} token an mdserver token
   */
  constructor(url, token) {
    super();
    this.#url = url;
    this.#token = token;
    /** 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized' */
    this.state = 'closed';
    /** The last WELCOME payload: {user, read_only, database, server_version, duckdb_version, limits}. */
    this.welcome = null;
    /** Bytes of frames received since the session started. */
    this.bytesReceived = 0;
  }

  #setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('status', { detail: { state, ...extra } }));
  }

  /** Open the socket and log in.  Resolves with the WELCOME payload. */
  connect() {
    this.#closedByUser = false;
    return this.#open(false);
  }

  #open(isRetry) {
    this.#setState(isRetry ? 'reconnecting' : 'connecting', { attempt: this.#attempt });
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.#url);
      } catch (e) {
        reject(disconnected(`cannot open ${this.#url}: ${e.message}`));
        return;
      }
      ws.binaryType = 'arraybuffer';
      this.#ws = ws;
      this.#hello = { resolve, reject };
      ws.onopen = () => ws.send(encodeFrame(MSG.HELLO, 0, { protocol: 1, token: this.#token, client: 'page' }));
      ws.onmessage = (ev) => this.#onMessage(ws, ev.data);
      ws.onclose = (ev) => this.#onClose(ws, ev);
      ws.onerror = () => { /* onclose follows with the details */ };
    });
  }

  #onMessage(ws, data) {
    if (ws !== this.#ws || !(data instanceof ArrayBuffer)) return;
    this.bytesReceived += data.byteLength;
    let f;
    try {
      f = decodeFrame(new Uint8Array(data));
    } catch (e) {
      this.#fail(ws, mdError('PROTOCOL_ERROR', `the server sent a bad frame: ${e.message}`));
      return;
    }
    if (this.#hello) {
      const { resolve, reject } = this.#hello;
      this.#hello = null;
      if (f.type === MSG.WELCOME) {
        this.welcome = f.json;
        const wasRetry = this.state === 'reconnecting';
        this.#attempt = 0;
        this.#setState('open');
        if (wasRetry) this.dispatchEvent(new CustomEvent('reconnected', { detail: f.json }));
        resolve(f.json);
      } else {
        const err = new MdError(f.json ?? { code: 'PROTOCOL_ERROR', message: `expected WELCOME, got ${f.name}` });
        if (err.code === 'AUTH_FAILED') {
          this.#closedByUser = true; // a refused token stays refused: no retries
          this.#setState('unauthorized', { message: err.message });
        }
        reject(err);
        ws.close();
      }
      return;
    }
    if (f.id === 0) {
      if (f.type === MSG.CATALOG) this.dispatchEvent(new CustomEvent('catalog-changed'));
      else if (f.type === MSG.ERROR) this.dispatchEvent(new CustomEvent('server-error', { detail: f.json }));
      return;
    }
    this.#requests.get(f.id)?.onFrame(f);
  }

  #fail(ws, err) {
    for (const r of this.#requests.values()) r.fail(err);
    this.#requests.clear();
    if (ws.readyState <= 1) ws.close();
  }

  #onClose(ws, ev) {
    if (ws !== this.#ws) return;
    this.#ws = null;
    const why = ev.reason ? `the server closed the connection: ${ev.reason}` : 'the connection to the server was lost';
    const err = disconnected(why);
    for (const r of this.#requests.values()) r.fail(err);
    this.#requests.clear();
    if (this.#hello) {
      this.#hello.reject(err);
      this.#hello = null;
    }
    if (this.#closedByUser) {
      if (this.state !== 'unauthorized') this.#setState('closed');
      return;
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.#attempt) * (0.8 + 0.4 * Math.random());
    this.#attempt++;
    this.#setState('reconnecting', { attempt: this.#attempt, delayMs: Math.round(delay), message: why });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#open(true).catch(() => { /* onClose schedules the next attempt */ });
    }, delay);
  }

  #send(type, id, payload) {
    if (!this.#ws || this.state !== 'open') {
      throw disconnected(this.state === 'reconnecting'
        ? 'not connected to the server: reconnecting, try again in a moment'
        : 'not connected to the server');
    }
    this.#ws.send(encodeFrame(type, id, payload));
  }

  /**
   * Send one QUERY.  handlers: onSchema(bytes), onBatch(bytes),
   * onProgress({percent, rows_processed, total_rows}), onEnd(resultEnd) per
   * statement; catalog: false asks for no CATALOG(0) after it.  Returns
   * {id, done, cancel()}; done resolves with the final RESULT_END payload
   * plus {frameBytes}, or rejects with an MdError.  The server runs a
   * session's requests in the order sent.
   */
  query(sql, { onSchema, onBatch, onProgress, onEnd, catalog = true } = {}) {
    const id = this.#nextId++;
    let frameBytes = 0;
    const done = new Promise((resolve, reject) => {
      this.#requests.set(id, {
        fail: reject,
        onFrame: (f) => {
          frameBytes += f.payload.length + 16;
          try {
            switch (f.type) {
              case MSG.RESULT_SCHEMA: onSchema?.(f.payload); break;
              case MSG.RESULT_BATCH: onBatch?.(f.payload); break;
              case MSG.PROGRESS: onProgress?.(f.json); break;
              case MSG.RESULT_END: onEnd?.(f.json); break;
              default: break;
            }
          } catch (e) { // a handler failed: stop the query, report the handler's error
            this.#requests.delete(id);
            try { this.#send(MSG.CANCEL, id, {}); } catch { /* gone anyway */ }
            reject(e);
            return;
          }
          if (!endsRequest(f)) return;
          this.#requests.delete(id);
          if (f.type === MSG.ERROR) reject(new MdError(f.json));
          else resolve({ ...f.json, frameBytes });
        },
      });
      try {
        this.#send(MSG.QUERY, id, catalog ? { sql } : { sql, catalog: false });
      } catch (e) {
        this.#requests.delete(id);
        reject(e);
      }
    });
    return {
      id,
      done,
      cancel: () => {
        if (!this.#requests.has(id)) return false;
        try { this.#send(MSG.CANCEL, id, {}); } catch { return false; }
        return true;
      },
    };
  }

  /**
   * A request answered by one frame of type `expect` (or an ERROR): resolves
   * with that frame.
   */
  #oneAnswer(type, payload, expect) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#requests.set(id, {
        fail: reject,
        onFrame: (f) => {
          if (!endsRequest(f)) return; // PROGRESS
          this.#requests.delete(id);
          if (f.type === expect) resolve(f);
          else if (f.type === MSG.ERROR) reject(new MdError(f.json));
          else reject(mdError('PROTOCOL_ERROR', `expected ${MSG_NAME[expect]}, got ${f.name}`));
        },
      });
      try {
        this.#send(type, id, payload);
      } catch (e) {
        this.#requests.delete(id);
        reject(e);
      }
    });
  }

  /** Ask for the server's catalog (wasm/catalog.h JSON). */
  async catalog() {
    return (await this.#oneAnswer(MSG.CATALOG, {}, MSG.CATALOG)).json;
  }

  /** A NOTEBOOK request ({op, ...}, server/notebooks.h); resolves with its answer. */
  async notebook(request) {
    return (await this.#oneAnswer(MSG.NOTEBOOK, request, MSG.NOTEBOOK)).json;
  }

  /** A HISTORY request ({op, ...}, server/history.h); resolves with its answer. */
  async history(request) {
    return (await this.#oneAnswer(MSG.HISTORY, request, MSG.HISTORY)).json;
  }

  /**
   * DuckDB's parse tree of `sql` (SELECTs only), as the JSON *text* the
   * server sent: trees hold integers beyond 2^53 that JSON.parse would round
   * (server/duckdb/ast_json.h).
   */
  async parse(sql) {
    const f = await this.#oneAnswer(MSG.PARSE, { sql }, MSG.PARSE);
    return new TextDecoder().decode(f.payload);
  }

  /** SQL for a tree in PARSE's text form ({"statements": [...]}, possibly rewritten). */
  async deparse(treeText) {
    const f = await this.#oneAnswer(MSG.DEPARSE, new TextEncoder().encode(treeText), MSG.DEPARSE);
    return f.json.sql;
  }

  /**
   * Upload an Arrow IPC stream (bytes) into the session's temp table
   * `table` (server/duckdb/upload.h), in frames of at most frameBytes.  Resolves
   * with the RESULT_END payload ({rows, bytes, table}); rejects with a
   * MdError.  catalog: false asks for no CATALOG(0) after it.
   */
  upload(table, ipc, { frameBytes = 1 << 20, catalog = true } = {}) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#requests.set(id, {
        fail: reject,
        onFrame: (f) => {
          if (!endsRequest(f)) return; // PROGRESS
          this.#requests.delete(id);
          if (f.type === MSG.RESULT_END) resolve(f.json);
          else if (f.type === MSG.ERROR) reject(new MdError(f.json));
          else reject(mdError('PROTOCOL_ERROR', `expected RESULT_END, got ${f.name}`));
        },
      });
      try {
        const enc = new TextEncoder();
        for (let off = 0, first = true; first || off < ipc.length; first = false) {
          const end = Math.min(ipc.length, off + frameBytes);
          const header = enc.encode(JSON.stringify({
            ...(first ? { table } : {}), ...(first && !catalog ? { catalog: false } : {}),
            ...(end >= ipc.length ? { final: true } : {}),
          }));
          const body = new Uint8Array(4 + header.length + (end - off));
          new DataView(body.buffer).setUint32(0, header.length, true);
          body.set(header, 4);
          body.set(ipc.subarray(off, end), 4 + header.length);
          this.#send(MSG.UPLOAD, id, body);
          off = end;
        }
      } catch (e) {
        this.#requests.delete(id);
        reject(e);
      }
    });
  }

  /** Close for good (no reconnect). */
  close() {
    this.#closedByUser = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#ws) this.#ws.close();
    else this.#setState('closed');
  }
}
