// wasm_host.mjs: the page's way of running SQL, in Node, for build/slt-wasm.
// The C driver compiled to WebAssembly (build/ui/engine.mjs), the page's host
// of it (ui/js/runtime.js), duckdb-wasm's Node build (the same package
// version the page serves) as the local site, and a real mdserver session
// (ui/js/remote.js over the `ws` package) as the remote one.  slt_hybrid.c
// (--host wasm) starts it and speaks to it over stdin/stdout:
//
//   request   u32 length (little-endian), then JSON:
//             {"op": "open", "url", "token", "database"}   a fresh session and
//                 a fresh duckdb-wasm for one file, USE database on the server
//             {"op": "run", "sql", "timeout_ms"}   the script through the driver
//             {"op": "local", "sql"}   duckdb-wasm alone (the runner's own pragmas)
//             {"op": "close"}          end the file's session
//   response  u32 length, JSON {"ok": true, "where": "hybrid"|..., "rows"} or
//             {"ok": false, "code", "message"}; then u32 length and the last
//             result as an Arrow IPC stream (length 0: no result).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';

globalThis.WebSocket = WebSocket; // remote.js speaks the browser's WebSocket
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const require = createRequire(import.meta.url);
const PKG = resolve(ROOT, 'node_modules/@duckdb/duckdb-wasm');
const duckdb = require(`${PKG}/dist/duckdb-node-blocking.cjs`); // (not among the package's exports)
const arrow = require(`${PKG}/node_modules/apache-arrow`); // the version duckdb-wasm reads and writes
const { Engine } = await import('../../build/ui/js/engine.js');
const { LocalDb } = await import('../../build/ui/js/localdb.js');
const { RemoteSession } = await import('../../build/ui/js/remote.js');
const { Runtime } = await import('../../build/ui/js/runtime.js');
const createEngine = (await import(pathToFileURL(resolve(ROOT, 'build/ui/engine.mjs')).href)).default;
const wasmBinary = readFileSync(resolve(ROOT, 'build/ui/engine.wasm'));
const DIST = `${PKG}/dist`;
const lib = { ...duckdb, RecordBatchReader: arrow.RecordBatchReader };

let session = null; // {runtime, local, db}

async function open({ url, token, database }) {
  await close();
  const db = await duckdb.createDuckDB({
    mvp: { mainModule: `${DIST}/duckdb-mvp.wasm`, mainWorker: `${DIST}/duckdb-node-mvp.worker.cjs` },
    eh: { mainModule: `${DIST}/duckdb-eh.wasm`, mainWorker: `${DIST}/duckdb-node-eh.worker.cjs` },
  }, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate();
  const local = await LocalDb.over(lib, db, null, 'node');
  // runtime.js keeps bridges into the local site in md_cache, as in the page
  const engine = await Engine.create(createEngine, { moduleOptions: { wasmBinary }, remoteDatabase: database, localCache: true });
  const remote = new RemoteSession(url, token);
  await remote.connect();
  const runtime = new Runtime({ engine, local, remote });
  await runtime.begin();
  session = { runtime };
  await runtime.run(`USE "${database.replaceAll('"', '""')}"`);
  return {};
}

async function close() {
  if (!session) return {};
  await session.runtime.close();
  session = null;
  return {};
}

/** The last result of a run as IPC bytes (every row). */
async function lastResult(results) {
  const r = results.at(-1);
  if (!r) return new Uint8Array(0);
  if (r.ipc) return r.ipc;
  if (r.cacheTable) {
    const { ipc } = await session.runtime.local.ipc(`SELECT * FROM ${r.cacheTable}`);
    await session.runtime.local.query(`DROP TABLE IF EXISTS ${r.cacheTable}`);
    return ipc;
  }
  return new Uint8Array(0);
}

async function run({ sql, timeout_ms: timeoutMs = 120000 }) {
  const timer = setTimeout(() => session.runtime.cancel(), timeoutMs);
  try {
    const out = await session.runtime.run(sql, { keepIpc: true });
    const last = out.results.at(-1);
    return { header: { where: last?.site ?? '', rows: last?.rowCount ?? 0 }, ipc: await lastResult(out.results) };
  } finally {
    clearTimeout(timer);
  }
}

async function local({ sql }) {
  await session.runtime.local.query(sql);
  return {};
}

const ops = { open, close, run, local };

function write(bytes) {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(bytes.length);
  process.stdout.write(len);
  if (bytes.length) process.stdout.write(bytes);
}

const debug = process.env.SLT_WASM_DEBUG ? (...a) => process.stderr.write(`wasm_host: ${a.join(' ')}\n`) : () => {};

async function answer(request) {
  debug('<-', JSON.stringify(request).slice(0, 200));
  let header;
  let ipc = new Uint8Array(0);
  try {
    const op = ops[request.op];
    if (!op) throw Object.assign(new Error(`no op ${request.op}`), { code: 'PROTOCOL_ERROR' });
    const out = await op(request);
    header = { ok: true, ...(out.header ?? {}) };
    ipc = out.ipc ?? ipc;
  } catch (e) {
    header = { ok: false, code: e.code ?? 'INTERNAL', message: String(e.message ?? e) };
  }
  debug('->', JSON.stringify(header).slice(0, 200), ipc.length);
  write(Buffer.from(JSON.stringify(header)));
  write(Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength));
}

// requests, one at a time, in order
let pending = Buffer.alloc(0);
let chain = Promise.resolve();
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32LE(0)) {
    const n = pending.readUInt32LE(0);
    const request = JSON.parse(pending.subarray(4, 4 + n).toString('utf8'));
    pending = pending.subarray(4 + n);
    chain = chain.then(() => answer(request));
  }
});
process.stdin.on('end', () => { chain.then(close).then(() => process.exit(0)); });
