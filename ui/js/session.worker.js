// session.worker.js: the page's session, off the main thread.  The engine
// (WASM), the WebSocket to the server and the host of the dual-execution
// driver (runtime.js) live here; duckdb-wasm runs in its own worker, started
// from this one.  Remote batches go from the socket into duckdb-wasm without
// passing through the main thread, which only renders what it is sent.
//
// Messages (both directions {id, type, data}; session.js is the other end):
//   in   start {token}, run {sql, resultName, keep}, dropResult {cacheTable}, cancel,
//        catalog, notebook {request}, history {request}, statements {sql},
//        addFile {file}, panel {op, ...} (result_views.js: open, window,
//        value, close, cache, pivot, profile, stopProfile, export), close
//   out  ok {id, data} / error {id, data: {code, message, position, type}}
//        for a request; statement, progress, rows {id, data} while run `id`
//        goes on; status {data} (the connection) and catalog (it changed)
//        at any time.

import createEngine from '/engine.mjs';
import { Engine } from './engine.js';
import { mdError } from './errors.js';
import { LocalDb } from './localdb.js';
import { RemoteSession } from './remote.js';
import { ResultViews } from './result_views.js';
import { Runtime, DISPLAY_ROWS } from './runtime.js';

let runtime = null;
let views = null; // the results panel's views of cached results

/**
 * duckdb-wasm, the engine and the server login in parallel, then both
 * catalogs.  Rejects with code AUTH_FAILED for a bad token (after stopping
 * what it started).
 */
async function startRuntime(token) {
  const remote = new RemoteSession(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, token);
  const t0 = performance.now();
  const timings = {};
  const timed = (p, key) => p.then((v) => { timings[key] = performance.now() - t0; return v; });
  const parts = await Promise.allSettled([timed(LocalDb.open(), 'duckdb_instantiate'),
    timed(Engine.create(createEngine, { localCache: true }), 'engine'), timed(remote.connect(), 'login')]);
  const failed = parts.find((r) => r.status === 'rejected');
  if (failed) {
    remote.close();
    if (parts[0].status === 'fulfilled') await parts[0].value.close();
    if (parts[1].status === 'fulfilled') parts[1].value.close();
    throw failed.reason;
  }
  const rt = new Runtime({ local: parts[0].value, engine: parts[1].value, remote });
  await rt.begin();
  rt.timings = { ...timings, ready: performance.now() - t0 };
  return rt;
}

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

/** An error as plain data (an Error does not cross postMessage with its fields). */
const errorData = (e) => ({
  code: e?.code ?? 'INTERNAL', message: String(e?.message ?? e),
  ...(typeof e?.position === 'number' ? { position: e.position } : {}), ...(e?.type ? { type: e.type } : {}),
});

const PANEL_OPS = {
  open: 'open', window: 'window', value: 'value', close: 'close', cache: 'cache', pivot: 'pivot', profile: 'profile',
  stopProfile: 'stopProfile', export: 'export',
};

const handlers = {
  async start({ token }) {
    runtime = await startRuntime(token);
    views = new ResultViews(runtime.local, runtime.remote);
    runtime.remote.addEventListener('status', (ev) => post({ type: 'status', data: ev.detail }));
    runtime.addEventListener('catalog', () => post({ type: 'catalog' }));
    return { welcome: runtime.remote.welcome, bundle: runtime.local.bundle, timings: runtime.timings, displayRows: DISPLAY_ROWS };
  },
  run({ sql, resultName, keep }, id) {
    return runtime.run(sql, {
      resultName, keep,
      onStatement: (st) => post({ id, type: 'statement', data: st }),
      onProgress: (p) => post({ id, type: 'progress', data: p }),
      onRows: (r) => post({ id, type: 'rows', data: r }),
    });
  },
  cancel() { return runtime?.cancel() ?? false; },
  catalog() { return runtime.engine.catalog(); },
  async dropResult({ cacheTable }) {
    await views.closeTable(cacheTable);
    return runtime.dropResult(cacheTable);
  },
  panel(request) {
    const op = PANEL_OPS[request.op];
    if (!op) throw mdError('INVALID_ARGUMENT', `the results panel has no request ${request.op}`);
    return views[op](request);
  },
  notebook({ request }) { return runtime.remote.notebook(request); },
  history({ request }) { return runtime.remote.history(request); },
  statements({ sql }) { return runtime.engine.tokens(sql).statements; },
  addFile({ file }) { return runtime.addFile(file); },
  async close() { await runtime?.close(); runtime = null; },
};

self.onmessage = async ({ data: { id, type, data } }) => {
  try {
    const handler = handlers[type];
    if (!handler) throw mdError('PROTOCOL_ERROR', `the session has no request ${type}`);
    const out = await handler(data ?? {}, id);
    post({ id, type: 'ok', data: out }, out instanceof Uint8Array ? [out.buffer] : []);
  } catch (e) {
    post({ id, type: 'error', data: errorData(e) });
  }
};
