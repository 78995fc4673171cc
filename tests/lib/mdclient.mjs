// tests/lib/mdclient.mjs: a protocol client for the Node tests: WebSocket
// (ws), frames from ui/js/wire.js, results decoded with apache-arrow.
import WebSocket from 'ws';
import { tableFromIPC } from 'apache-arrow';
import { MSG, encodeFrame, decodeFrame, ARROW_EOS } from '../../build/ui/js/wire.js';

export { MSG };

function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class MdClient {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.frames = [];      // frames no request claimed
    this.waiters = [];     // resolvers for next unclaimed frame
    this.requests = new Map();
    this.closed = new Promise((res) => ws.once('close', (code, reason) => res({ code, reason: String(reason) })));
    ws.on('message', (data, isBinary) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let f;
      try { f = decodeFrame(bytes); } catch (e) { f = { type: -1, name: 'UNDECODABLE', error: e, id: 0 }; }
      const r = this.requests.get(f.id);
      if (r && f.id !== 0) { r(f); return; }
      const w = this.waiters.shift();
      if (w) w(f); else this.frames.push(f);
    });
  }

  /** Open a WebSocket (trusting `ca` for wss, from `localAddress`); with a token, also say HELLO and await WELCOME. */
  static async connect(url, token, { hello = true, ca, localAddress } = {}) {
    const ws = new WebSocket(url, { maxPayload: 1 << 30, ca, localAddress });
    const c = new MdClient(ws); // listen before 'open': frames may follow it at once
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    if (hello && token !== undefined) {
      c.send(MSG.HELLO, 0, { protocol: 1, token, client: 'node-test' });
      const f = await c.next();
      if (f.type !== MSG.WELCOME) {
        const err = new Error(f.json?.message ?? `expected WELCOME, got ${f.name}`);
        err.code = f.json?.code;
        err.frame = f;
        ws.close();
        throw err;
      }
      c.welcome = f.json;
    }
    return c;
  }

  send(type, id, payload) { this.ws.send(encodeFrame(type, id, payload)); }
  sendRaw(bytes) { this.ws.send(bytes); }

  /** The next frame not claimed by a running request. */
  next(timeoutMs = 30000) {
    if (this.frames.length) return Promise.resolve(this.frames.shift());
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push((f) => { clearTimeout(t); res(f); });
    });
  }

  /**
   * Run SQL.  Resolves to {results: [{table, end}], progress: [...], error, frames}
   * where error is the ERROR payload if the request failed.
   * opts.onFrame(frame) sees every frame; opts.keep=false skips decoding tables.
   */
  query(sql, { onFrame, decode = true, id = this.nextId++ } = {}) {
    const out = { id, results: [], progress: [], error: null, frames: 0, bytes: 0 };
    let parts = [];
    const p = new Promise((resolve) => {
      this.requests.set(id, (f) => {
        out.frames++;
        out.bytes += f.payload?.length ?? 0;
        onFrame?.(f);
        switch (f.type) {
          case MSG.RESULT_SCHEMA: parts = [f.payload.slice()]; break;
          case MSG.RESULT_BATCH: if (decode) parts.push(f.payload.slice()); break;
          case MSG.PROGRESS: out.progress.push(f.json); break;
          case MSG.RESULT_END: {
            const table = decode && parts.length ? tableFromIPC(concat([...parts, ARROW_EOS])) : null;
            out.results.push({ table, end: f.json });
            parts = [];
            if (f.json.final) { this.requests.delete(id); resolve(out); }
            break;
          }
          case MSG.ERROR: out.error = f.json; this.requests.delete(id); resolve(out); break;
          default: break;
        }
      });
    });
    this.send(MSG.QUERY, id, { sql });
    p.id = id;
    return p;
  }

  cancel(id) { this.send(MSG.CANCEL, id, {}); }

  /** Send a one-answer request (PARSE, DEPARSE, CATALOG); resolves to its answer frame or ERROR frame. */
  request(type, payload, { id = this.nextId++ } = {}) {
    return new Promise((resolve) => {
      this.requests.set(id, (f) => {
        if (f.type === MSG.PROGRESS) return;
        this.requests.delete(id);
        resolve(f);
      });
      this.send(type, id, payload);
    });
  }

  /** Run SQL and return the last statement's rows as plain objects; throws on ERROR. */
  async rows(sql) {
    const r = await this.query(sql);
    if (r.error) {
      const e = new Error(r.error.message);
      e.code = r.error.code;
      e.position = r.error.position;
      throw e;
    }
    const last = r.results[r.results.length - 1];
    return last?.table ? last.table.toArray().map((row) => row.toJSON()) : [];
  }

  close() { this.ws.close(); return this.closed; }
  terminate() { this.ws.terminate(); }
}
