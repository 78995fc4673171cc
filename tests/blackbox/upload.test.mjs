// Black-box tests of UPLOAD (server/duckdb/upload.c): an Arrow IPC stream, cut
// into frames at arbitrary bytes, becomes a temp table of the session;
// malformed uploads get one ERROR and leave nothing behind; the session
// keeps working; a bridge's upload can ask for no catalog push, and one the
// server refuses fails its split statement with the server's reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays, tableToIPC, vectorFromArray, Table, Field, Int32, Utf8, List, Struct } from 'apache-arrow';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, createToken, MDSERVER } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';
import { MSG } from '../../build/ui/js/wire.js';

let srv, c, token;

before(async () => {
  srv = await startServer({ args: ['--max-result-bytes', String(4 << 20)] });
  token = createToken(srv.dataDir, 'upuser');
  c = await MdClient.connect(srv.url, token);
});
after(async () => {
  await c?.close();
  await srv?.stop({ removeData: true });
});

/** One UPLOAD payload: u32le header length, JSON header, Arrow bytes. */
function payload(header, bytes = new Uint8Array(0)) {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + h.length + bytes.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 4);
  out.set(bytes, 4 + h.length);
  return out;
}

/** Send `ipc` as an upload into `table`, cut at the given byte offsets; resolves to the answer frame. */
function upload(table, ipc, cuts = [], id = c.nextId++) {
  const answer = new Promise((resolve) => c.requests.set(id, (f) => { c.requests.delete(id); resolve(f); }));
  const bounds = [0, ...cuts, ipc.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const header = {};
    if (i === 0) header.table = table;
    if (i + 2 === bounds.length) header.final = true;
    c.send(MSG.UPLOAD, id, payload(header, ipc.subarray(bounds[i], bounds[i + 1])));
  }
  return answer;
}

test('an Arrow stream cut anywhere becomes a temp table with its names, types and values', async () => {
  const n = 50000;
  const t = tableFromArrays({
    id: Int32Array.from({ length: n }, (_, i) => i),
    amount: Float64Array.from({ length: n }, (_, i) => i / 4),
    label: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : `row ${i}`)),
  });
  const ipc = tableToIPC(t, 'stream');
  const f = await upload('dim', ipc, [3, 100, 101, Math.floor(ipc.length / 2)]);
  assert.equal(f.type, MSG.RESULT_END, JSON.stringify(f.json));
  assert.equal(f.json.rows, n);
  assert.equal(f.json.table, 'temp.main.dim');
  assert.equal(f.json.bytes, ipc.length);
  const [r] = await c.rows(`SELECT count(*)::INTEGER AS n, sum(id)::BIGINT AS s, sum(amount) AS a,
    count(label)::INTEGER AS labels, max(label) AS mx, typeof(any_value(id)) AS ti, typeof(any_value(amount)) AS ta
    FROM dim`);
  assert.deepEqual(r, { n, s: BigInt((n * (n - 1)) / 2), a: (n * (n - 1)) / 8, labels: n - Math.ceil(n / 3), mx: 'row 9998', ti: 'INTEGER', ta: 'DOUBLE' });
  // it joins with server tables, and a second upload replaces it
  await c.rows('CREATE TABLE facts AS SELECT range AS id FROM range(10)');
  assert.deepEqual(await c.rows('SELECT count(*)::INTEGER AS n FROM facts JOIN dim USING (id)'), [{ n: 10 }]);
  const small = tableToIPC(tableFromArrays({ id: Int32Array.from([1, 2, 3]) }), 'stream');
  assert.equal((await upload('dim', small)).json.rows, 3);
  assert.deepEqual(await c.rows('SELECT count(*)::INTEGER AS n FROM dim'), [{ n: 3 }]);
});

test('long batches of nested columns keep every row in place (lists, structs, NULLs)', async () => {
  const n = 5000; // more than one DuckDB vector: the server appends it in windows
  const list = new Field('item', new Int32(), true);
  const struct = [new Field('k', new Int32(), true), new Field('v', new Utf8(), true)];
  const ids = vectorFromArray(Array.from({ length: n }, (_, i) => i), new Int32());
  const lists = vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : [i, i + 1, i + 2].slice(0, i % 3 + 1))), new List(list));
  const structs = vectorFromArray(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : { k: i, v: `s${i}` })), new Struct(struct));
  const t = new Table({ id: ids, l: lists, st: structs });
  const f = await upload('nested', tableToIPC(t, 'stream'), [1000]);
  assert.equal(f.type, MSG.RESULT_END, JSON.stringify(f.json));
  const [r] = await c.rows(`SELECT count(*)::INTEGER AS n,
      count(*) FILTER (WHERE l IS NULL)::INTEGER AS null_lists,
      sum(len(l))::INTEGER AS items,
      count(*) FILTER (WHERE l IS NOT NULL AND l[1] <> id)::INTEGER AS misplaced_lists,
      count(*) FILTER (WHERE st IS NULL)::INTEGER AS null_structs,
      count(*) FILTER (WHERE st IS NOT NULL AND (st.k <> id OR st.v <> 's' || id))::INTEGER AS misplaced_structs
    FROM nested`);
  let items = 0;
  for (let i = 0; i < n; i++) if (i % 5 !== 0) items += i % 3 + 1;
  assert.deepEqual(r, { n, null_lists: n / 5, items, misplaced_lists: 0, null_structs: Math.ceil(n / 7), misplaced_structs: 0 });
});

test('bad uploads get one ERROR each and leave no table; the session keeps working', async () => {
  const ipc = tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2, 3]) }), 'stream');
  // garbage instead of Arrow
  let f = await upload('junk', new TextEncoder().encode('this is not an Arrow stream at all'), [5]);
  assert.equal(f.type, MSG.ERROR);
  assert.equal(f.json.code, 'BAD_FRAME');
  // cut short: the stream ends inside a message
  f = await upload('short', ipc.subarray(0, ipc.length - 20));
  assert.equal(f.type, MSG.ERROR);
  assert.match(f.json.message, /ended inside an Arrow message|no record batch/);
  // no table name in the first frame
  const id = c.nextId++;
  const answer = new Promise((resolve) => c.requests.set(id, resolve));
  c.send(MSG.UPLOAD, id, payload({ final: true }, ipc));
  f = await answer;
  assert.equal(f.json.code, 'INVALID_ARGUMENT');
  // a payload without its header
  const id2 = c.nextId++;
  const answer2 = new Promise((resolve) => c.requests.set(id2, resolve));
  c.send(MSG.UPLOAD, id2, new Uint8Array([1, 2]));
  assert.equal((await answer2).json.code, 'BAD_FRAME');
  // over the server's limit (4 MiB here)
  const big = tableToIPC(tableFromArrays({ v: Float64Array.from({ length: 1 << 20 }, (_, i) => i) }), 'stream');
  f = await upload('toobig', big, [1 << 20, 2 << 20, 3 << 20]);
  assert.equal(f.json.code, 'TOO_LARGE');
  // nothing was left behind, and the session works
  const left = await c.rows("SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name IN ('junk', 'short', 'toobig')");
  assert.deepEqual(left, []);
  assert.deepEqual(await c.rows('SELECT 42 AS answer'), [{ answer: 42 }]);
});

test('a read-only token cannot upload', async () => {
  const ro = await MdClient.connect(srv.url, createToken(srv.dataDir, 'upuser', { readOnly: true }));
  const id = ro.nextId++;
  const answer = new Promise((resolve) => ro.requests.set(id, resolve));
  ro.send(MSG.UPLOAD, id, payload({ table: 't', final: true }, tableToIPC(tableFromArrays({ x: Int32Array.from([1]) }), 'stream')));
  assert.equal((await answer).json.code, 'READ_ONLY');
  await ro.close();
});

test('"catalog": false: an upload or a DDL query made for a bridge pushes no CATALOG(0); others do', async () => {
  const ipc = tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2]) }), 'stream');
  const pushes = () => c.frames.filter((f) => f.type === MSG.CATALOG && f.id === 0).length;
  c.frames.length = 0;
  const send = (header) => {
    const id = c.nextId++;
    const answer = new Promise((resolve) => c.requests.set(id, (f) => { c.requests.delete(id); resolve(f); }));
    c.send(MSG.UPLOAD, id, payload(header, ipc));
    return answer;
  };
  assert.equal((await send({ table: 'quiet_up', final: true, catalog: false })).type, MSG.RESULT_END);
  const quiet = await c.query('DROP TABLE temp.main.quiet_up'); // answered after the upload: any push came before
  assert.equal(quiet.error, null);
  // the DROP itself pushed (a plain QUERY); the upload did not
  await c.rows('SELECT 1');
  assert.equal(pushes(), 1);
  c.frames.length = 0;
  assert.equal((await send({ table: 'loud_up', final: true })).type, MSG.RESULT_END);
  await c.rows('SELECT 1');
  assert.equal(pushes(), 1);
  c.frames.length = 0;
  const id = c.nextId++;
  const answer = new Promise((resolve) => c.requests.set(id, (f) => { if (f.json?.final || f.type === MSG.ERROR) resolve(f); }));
  c.send(MSG.QUERY, id, { sql: 'DROP TABLE temp.main.loud_up', catalog: false });
  assert.equal((await answer).type, MSG.RESULT_END);
  await c.rows('SELECT 1');
  assert.equal(pushes(), 0);
  c.requests.delete(id);
});

test('a split statement whose upload the server refuses fails with the server\'s reason, and nothing is left', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-up-'));
  const run = (sql) => {
    const r = spawnSync(MDSERVER, ['client', '--url', srv.url, '--token', token, '--local', path.join(dir, 'l.duckdb'),
      '--format', 'csv', '-c', sql], { encoding: 'utf8', timeout: 60000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  try {
    let r = run('CREATE OR REPLACE TABLE few AS SELECT range AS k FROM range(10)');
    assert.equal(r.code, 0, r.err);
    // 8 MiB of doubles at the browser's side: over the server's 4 MiB, within the client's own cap
    r = run('CREATE TABLE l.wide AS SELECT range AS k, random() AS a, random() AS b FROM range(400000)');
    assert.equal(r.code, 0, r.err);
    // the upload goes out with the final query right behind it: the statement's error is the upload's,
    // and the write behind it made nothing
    r = run('CREATE TABLE copied AS SELECT w.* FROM l.wide w JOIN few USING (k)');
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /moving \S+ \(9\.\d MiB\) to the server failed: TOO_LARGE: .*4194304 bytes/);
    r = run("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'copied'");
    assert.equal(r.out, 'n\n0\n');
    r = run('CREATE TABLE copied AS SELECT w.* FROM l.wide w JOIN few USING (k) WHERE w.k < 1000');
    assert.equal(r.code, 0, r.err);
    r = run('SELECT count(*) AS n FROM copied');
    assert.equal(r.out, 'n\n10\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
