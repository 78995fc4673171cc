// Hardening: what an outsider with no token, and a user with one, must not
// be able to do to a real ./mdserver on 127.0.0.1 (issue 15; docs/security.md).
// Each test is one finding; each failed against the server before the fix.
// Attackers connect from their own loopback addresses (127.0.0.0/8 is all
// this machine's), so the per-address budget separates them from real users.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { startServer, createToken, newDataDir, httpGet, ROOT, MDSERVER } from '../lib/server.mjs';
import { MdClient, MSG } from '../lib/mdclient.mjs';
import { encodeFrame } from '../../build/ui/js/wire.js';
import { rawWebSocket, tcpConnect, closed, frame, frameHeader, rssBytes } from '../lib/rawws.mjs';

const HELLO_TIMEOUT_MS = 1500;
const MAX_FRAME = 1 << 20;
let srv, alice;

before(async () => {
  srv = await startServer({
    args: ['--hello-timeout', String(HELLO_TIMEOUT_MS), '--max-per-address', '8', '--max-unauthenticated', '12',
           '--max-frame-bytes', String(MAX_FRAME), '--allow-origin', 'http://allowed.example:8080'],
  });
  alice = createToken(srv.dataDir, 'alice');
});

after(async () => { await srv?.stop({ removeData: true }); });

/** The server is up and serves a real user from 127.0.0.1. */
async function serverServes() {
  assert.equal(srv.proc.exitCode, null, 'the server is still running');
  const h = await fetch(`${srv.http}/healthz`, { signal: AbortSignal.timeout(3000) });
  assert.equal(h.status, 200);
  const c = await MdClient.connect(srv.url, alice);
  assert.deepEqual(await c.rows('SELECT 42 AS answer'), [{ answer: 42 }]);
  await c.close();
}

function nested(depth) { return '['.repeat(depth) + ']'.repeat(depth); }

test('a deeply nested HELLO is refused with an error; the server stays up', async () => {
  // ~640 nested '[' (656 bytes) overflowed a civetweb thread's stack: every session lost.
  for (const depth of [700, 2000]) {
    const ws = await rawWebSocket(srv.port);
    assert.equal(ws.status, 101);
    const hello = `{"protocol":1,"token":"x","junk":${nested(depth)}}`;
    ws.sock.write(frame(2, encodeFrame(MSG.HELLO, 0, new TextEncoder().encode(hello))));
    const f = await ws.next();
    assert.equal(f?.json?.code, 'PROTOCOL_ERROR', `depth ${depth}`);
    assert.match(f.json.message, /nests deeper/);
    await ws.closed;
  }
  await serverServes();
});

test('deeply nested JSON after HELLO (QUERY, UPLOAD header, DEPARSE) gets an error, never a crash', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const deep = nested(100000);
  const q = await c.request(MSG.QUERY, new TextEncoder().encode(`{"sql":"SELECT 1","x":${deep}}`));
  assert.equal(q.json.code, 'INVALID_ARGUMENT');
  const d = await c.request(MSG.DEPARSE, new TextEncoder().encode(`{"statements":${deep}}`));
  assert.equal(d.json.code, 'INVALID_ARGUMENT');
  const header = new TextEncoder().encode(`{"table":"t","final":true,"x":${deep}}`);
  const up = new Uint8Array(4 + header.length);
  new DataView(up.buffer).setUint32(0, header.length, true);
  up.set(header, 4);
  const u = await c.request(MSG.UPLOAD, up);
  assert.equal(u.json.code, 'BAD_FRAME');
  assert.deepEqual(await c.rows('SELECT 1 AS still'), [{ still: 1 }]);
  await c.close();
  await serverServes();
});

test("Origin: another site's page cannot open a session; the server's own and allowed origins can", async () => {
  const tryOrigin = (origin) => new Promise((resolve) => {
    const ws = new WebSocket(srv.url, { origin });
    ws.once('open', () => { ws.close(); resolve(101); });
    ws.once('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.once('error', () => resolve('error'));
  });
  assert.equal(await tryOrigin('http://evil.example'), 403);
  assert.equal(await tryOrigin(`http://127.0.0.1:${srv.port}.evil.example`), 403);
  assert.equal(await tryOrigin(`http://127.0.0.1:${srv.port}`), 101);
  assert.equal(await tryOrigin('http://allowed.example:8080'), 101);
  const raw = await rawWebSocket(srv.port, { origin: 'http://evil.example' });
  assert.equal(raw.status, 403);
  assert.match(raw.head, /--allow-origin/);
  raw.sock.destroy();
});

test('a socket that never says HELLO is closed at the deadline with a clear error', async () => {
  const t0 = Date.now();
  const ws = await rawWebSocket(srv.port, { localAddress: '127.0.0.2' });
  assert.equal(ws.status, 101);
  const f = await ws.next(HELLO_TIMEOUT_MS + 5000);
  assert.equal(f?.json?.code, 'TIMEOUT');
  assert.match(f.json.message, /no HELLO within 1500 ms/);
  await ws.closed;
  const took = Date.now() - t0;
  assert.ok(took >= HELLO_TIMEOUT_MS - 100 && took < HELLO_TIMEOUT_MS + 3000, `closed after ${took} ms`);
});

test('a stalled frame before HELLO is also ended by the deadline', async () => {
  const ws = await rawWebSocket(srv.port, { localAddress: '127.0.0.2' });
  ws.sock.write(frameHeader(2, 200)); // declares 200 bytes, sends none
  ws.sock.write(Buffer.alloc(10));
  const f = await ws.next(HELLO_TIMEOUT_MS + 5000);
  assert.equal(f?.json?.code, 'TIMEOUT');
  await ws.closed;
});

test('pre-auth lock-out: idle sockets from one address cannot keep real users out', async () => {
  // 40 sockets that never say HELLO, from one address: only its budget (8) is admitted.
  const attempts = await Promise.allSettled(
    Array.from({ length: 40 }, () => rawWebSocket(srv.port, { localAddress: '127.0.0.3' })));
  const upgraded = attempts.filter((a) => a.status === 'fulfilled' && a.value.status === 101).map((a) => a.value);
  assert.ok(upgraded.length <= 8, `${upgraded.length} sockets from one address were admitted`);
  // a real user from elsewhere gets in at once, while they are open
  const t0 = Date.now();
  await serverServes();
  assert.ok(Date.now() - t0 < 3000);
  // and the idle ones are gone after the deadline
  await Promise.all(upgraded.map((w) => w.closed));
  for (const a of attempts) if (a.status === 'fulfilled') a.value.sock.destroy();
});

test('pre-auth lock-out: the unauthenticated budget refuses with SERVER_BUSY, and frees itself', async () => {
  // 12 waiting sockets from 12 addresses fill the budget of 12.
  const waiting = [];
  for (let i = 0; i < 12; i++) waiting.push(await rawWebSocket(srv.port, { localAddress: `127.0.1.${i + 1}` }));
  const over = await rawWebSocket(srv.port, { localAddress: '127.0.1.100' });
  const f = await over.next();
  assert.equal(f?.json?.code, 'SERVER_BUSY');
  assert.match(f.json.message, /maximum of 12 connections waiting to authenticate/);
  await over.closed;
  await Promise.all(waiting.map((w) => w.closed)); // the deadline ends them
  await serverServes();
});

test('unfinished HTTP handshakes do not hang /healthz or the page', async () => {
  const socks = [];
  const attempts = await Promise.allSettled(Array.from({ length: 100 }, async () => {
    const s = await tcpConnect(srv.port, { localAddress: '127.0.0.4' });
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // never ends its headers
    socks.push(s);
  }));
  assert.ok(attempts.length === 100);
  const t0 = Date.now();
  const h = await fetch(`${srv.http}/healthz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(h.status, 200);
  const page = await fetch(`${srv.http}/`, { signal: AbortSignal.timeout(5000) });
  assert.equal(page.status, 200);
  assert.ok(Date.now() - t0 < 3000, `healthz and / took ${Date.now() - t0} ms`);
  // over the address's budget, connections were closed unread
  const closedNow = socks.filter((s) => s.destroyed || s.readableEnded).length;
  await Promise.all(socks.map((s) => Promise.race([closed(s), new Promise((r) => setTimeout(r, 50))])));
  const closedSoon = socks.filter((s) => s.destroyed || s.readableEnded).length;
  assert.ok(Math.max(closedNow, closedSoon) >= 100 - 8 - 2, `${closedSoon} of 100 closed`);
  for (const s of socks) s.destroy();
  await serverServes();
});

test('pre-auth memory: a frame declaring 400 MB is refused by its header, before buffering', async () => {
  const before = await rssBytes(srv.proc.pid);
  const ws = await rawWebSocket(srv.port, { localAddress: '127.0.0.5' });
  ws.sock.on('error', () => {});
  ws.sock.write(frameHeader(2, 400 * 1024 * 1024));
  ws.sock.write(Buffer.alloc(1024, 7));
  const f = await ws.next();
  assert.equal(f?.json?.code, 'TOO_LARGE');
  assert.match(f.json.message, /before HELLO may be at most 4096 bytes \(this one declares 419430400\)/);
  // whatever the client goes on sending is never held
  const chunk = Buffer.alloc(1 << 20, 7);
  for (let i = 0; i < 64 && !ws.sock.destroyed; i++) {
    if (!ws.sock.write(chunk)) await new Promise((r) => { ws.sock.once('drain', r); ws.sock.once('close', r); });
  }
  await ws.closed;
  const grew = (await rssBytes(srv.proc.pid)) - before;
  assert.ok(grew < 32 * 1024 * 1024, `the server grew by ${(grew / 1048576).toFixed(1)} MB`);
  await serverServes();
});

test('after HELLO, a frame over --max-frame-bytes is dropped as it arrives: TOO_LARGE for its id, memory flat', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const before = await rssBytes(srv.proc.pid);
  const size = 256 * 1024 * 1024;
  const big = new Uint8Array(size);
  big.set(encodeFrame(MSG.QUERY, 77, new Uint8Array(0)).subarray(0, 16));
  new DataView(big.buffer).setUint32(12, size - 16, true);
  c.sendRaw(big);
  const f = await c.next(60000);
  assert.equal(f.json.code, 'TOO_LARGE');
  assert.equal(f.id, 77);
  const grew = (await rssBytes(srv.proc.pid)) - before;
  assert.ok(grew < 32 * 1024 * 1024, `the server grew by ${(grew / 1048576).toFixed(1)} MB for a 256 MB frame`);
  assert.deepEqual(await c.rows('SELECT 3 AS usable'), [{ usable: 3 }]);
  await c.close();
});

test("a user's session over the duckling's 64 gets SERVER_BUSY, and the others keep working", async () => {
  const s = await startServer({ args: ['--max-per-address', '0', '--max-connections', '80'] });
  try {
    const tok = createToken(s.dataDir, 'dora');
    const clients = [];
    for (let i = 0; i < 64; i++) {
      const c = await MdClient.connect(s.url, tok);
      assert.deepEqual(await c.rows(`SELECT ${i} AS i`), [{ i }]);
      clients.push(c);
    }
    const extra = await MdClient.connect(s.url, tok);
    const r = await extra.query('SELECT 1');
    assert.equal(r.error?.code, 'SERVER_BUSY');
    assert.match(r.error.message, /already has the maximum of 64 sessions open/);
    // nobody else lost anything
    assert.deepEqual(await clients[0].rows('SELECT 0 AS ok'), [{ ok: 0 }]);
    assert.deepEqual(await clients[63].rows('SELECT 63 AS ok'), [{ ok: 63 }]);
    // once a session closes, the next one gets in
    await clients.pop().close();
    let ok = null;
    for (let i = 0; i < 100 && !ok; i++) {
      const again = await extra.query('SELECT 2 AS two');
      if (!again.error) ok = again;
      else await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(ok, 'a session got in after one closed');
    await Promise.all([...clients, extra].map((c) => c.close()));
  } finally {
    await s.stop({ removeData: true });
  }
});

test('a stopped (SIGSTOP) duckling is killed and replaced: its requests get DUCKLING_FAILED, not a hang', async () => {
  const c = await MdClient.connect(srv.url, alice);
  await c.rows('CREATE OR REPLACE TABLE kept AS SELECT 5 AS v');
  const ducklings = srv.children();
  assert.equal(ducklings.length, 1, 'one duckling (alice)');
  process.kill(ducklings[0], 'SIGSTOP');
  const t0 = Date.now();
  const r = await c.query('SELECT 1');
  const took = Date.now() - t0;
  assert.equal(r.error?.code, 'DUCKLING_FAILED');
  assert.ok(took < 15000, `answered after ${took} ms`);
  assert.match(srv.stderr, /has been stopped for 5 s: killing it/);
  // the next request gets a fresh duckling and the committed table
  assert.deepEqual(await c.rows('SELECT v FROM kept'), [{ v: 5 }]);
  await c.close();
});

test('PRAGMAs are allow-listed: profiling, checkpoint and verification modes are refused; query pragmas work', async () => {
  const c = await MdClient.connect(srv.url, alice);
  for (const p of ['enable_profiling', 'enable_profile', 'disable_checkpoint_on_shutdown', 'enable_verification',
    'verify_external', 'enable_object_cache', 'enable_print_progress_bar', 'disable_progress_bar', 'force_checkpoint']) {
    const r = await c.query(`PRAGMA ${p}`);
    assert.equal(r.error?.code, 'PERMISSION_DENIED', p);
    assert.match(r.error.message, new RegExp(`does not let a session change "${p}"`, 'i'));
    assert.equal(r.error.position, 7);
  }
  // the SQL of later queries never reaches the server's log
  const marker = `marker_${Date.now()}`;
  assert.deepEqual(await c.rows(`SELECT 1 AS ${marker}`), [{ [marker]: 1 }]);
  assert.doesNotMatch(srv.stderr, new RegExp(marker));
  // what a session may do
  await c.rows('PRAGMA disable_optimizer');
  await c.rows('PRAGMA enable_optimizer');
  await c.rows('CREATE OR REPLACE TABLE pragma_t (a INTEGER, b VARCHAR)');
  const info = await c.rows("PRAGMA table_info('pragma_t')");
  assert.deepEqual(info.map((r) => r.name), ['a', 'b']);
  await c.close();
});

test("queued request bytes are bounded per session and per user: SERVER_BUSY, and the duckling's memory stays flat", async () => {
  // --max-frame-bytes 1 MiB here: a session may hold 2 frames' worth, the user 4.
  const forever = 'SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3';
  const big = (n) => `SELECT ${n} AS n -- ${'x'.repeat(900 * 1024)}`;
  const sessions = await Promise.all([0, 1, 2].map(() => MdClient.connect(srv.url, alice)));
  const duckling = srv.children()[0];
  const before = await rssBytes(duckling);
  const long = sessions.map((c) => c.query(forever));
  const answers = [];
  for (const [k, c] of sessions.entries()) {
    const n = k === 2 ? 1 : 3;
    for (let i = 0; i < n; i++) answers.push({ k, i, r: c.query(big(i)) });
  }
  // refusals come at once, while the long queries still hold the executors
  const refused = [];
  for (const a of answers) {
    const r = await Promise.race([a.r, new Promise((res) => setTimeout(() => res(null), 3000))]);
    if (r?.error) refused.push({ k: a.k, i: a.i, code: r.error.code, message: r.error.message });
  }
  // session 0 and 1: the third big query is over the session's budget;
  // session 2: its one big query is over the user's budget (4 frames)
  assert.deepEqual(refused.map((x) => `${x.k}:${x.i}:${x.code}`).sort(), ['0:2:SERVER_BUSY', '1:2:SERVER_BUSY', '2:0:SERVER_BUSY']);
  for (const x of refused) assert.match(x.message, /request bytes are waiting/);
  const grew = (await rssBytes(duckling)) - before;
  assert.ok(grew < 64 * 1024 * 1024, `the duckling grew by ${(grew / 1048576).toFixed(1)} MB`);
  for (const [k, c] of sessions.entries()) c.cancel(long[k].id);
  for (const l of long) assert.equal((await l).error?.code, 'CANCELLED');
  for (const a of answers) {
    const r = await a.r;
    if (!r.error) assert.equal(Number(r.results[0].table.getChild('n').get(0)), a.i);
  }
  await Promise.all(sessions.map((c) => c.close()));
});

test("no dedup oracle: what a user's snapshot adds does not depend on another user's data", async () => {
  const bob = createToken(srv.dataDir, 'bob');
  const a = await MdClient.connect(srv.url, alice);
  const b = await MdClient.connect(srv.url, bob);
  const table = (v) => `CREATE TABLE secret AS SELECT hash('${v}', i) AS h FROM range(100000) t(i)`;
  const added = async (c, db) => Number((await c.rows(
    `SELECT bytes_added FROM md_snapshots('${db}') ORDER BY snapshot_id DESC LIMIT 1`))[0].bytes_added);
  await a.rows('CREATE DATABASE vault');
  await a.rows('USE vault');
  await a.rows(table('the-secret-4711'));
  // bob builds the same database, guessing right, then wrong (after a first one of his own, so
  // that what his databases share, the file header, is stored already): before, the right guess
  // added 0 bytes
  await b.rows('CREATE DATABASE primer');
  await b.rows('USE primer');
  await b.rows(table('something else'));
  await b.rows('CREATE DATABASE vault');
  await b.rows('USE vault');
  await b.rows(table('the-secret-4711'));
  const right = await added(b, 'vault');
  await b.rows('CREATE DATABASE vault2');
  await b.rows('USE vault2');
  await b.rows(table('the-secret-0000'));
  const wrong = await added(b, 'vault2');
  assert.ok(right > 1000000, `a right guess added ${right} bytes`);
  assert.equal(right, wrong);
  // within one user, blocks are still stored once: a clone adds nothing
  await b.rows('CREATE DATABASE vault3 FROM vault');
  const snaps = await b.rows("SELECT bytes_added FROM md_snapshots('vault3')");
  assert.ok(snaps.every((r) => Number(r.bytes_added) === 0), JSON.stringify(snaps.map((r) => Number(r.bytes_added))));
  await a.close();
  await b.close();
});

test("a user cannot attach, copy to or export into the server's own database files, under any spelling", async () => {
  const c = await MdClient.connect(srv.url, alice);
  await c.rows('CREATE DATABASE IF NOT EXISTS v3');
  const dbs = await c.rows("SELECT path FROM duckdb_databases() WHERE database_name = 'v3'");
  assert.equal(dbs.length, 1);
  assert.doesNotMatch(dbs[0].path, /\/\//, 'the server attaches canonical paths');
  const file = '/home/alice/databases/v3.duckdb'; // the user's directory, as a duckling sees it
  for (const sql of [`ATTACH '${file}' AS x`, `ATTACH '${file.replace('/databases', '//databases')}' AS x`,
    "ATTACH 'databases/v3.duckdb' AS x", "ATTACH './databases/../databases/v3.duckdb' (READ_ONLY)",
    `ATTACH 'file://${file}' AS x`, "COPY (SELECT 1) TO 'databases/v3.duckdb'",
    "EXPORT DATABASE 'databases/out'"]) {
    const r = await c.query(sql);
    assert.equal(r.error?.code, 'PERMISSION_DENIED', sql);
    assert.match(r.error.message, /may not name the server's own database files/, sql);
  }
  // the database is intact and still takes writes through its snapshots
  await c.rows('CREATE OR REPLACE TABLE v3.t AS SELECT 7 AS v');
  assert.deepEqual(await c.rows('SELECT v FROM v3.t'), [{ v: 7 }]);
  // the user's own files still work
  await c.rows("ATTACH '/home/alice/mine.duckdb' AS mine");
  await c.rows('CREATE TABLE mine.t AS SELECT 1 AS one');
  await c.rows('DETACH mine');
  await c.close();
});

test("finding 11: a user sees paths in their own directory, never the server's data directory or home", async () => {
  const c = await MdClient.connect(srv.url, createToken(srv.dataDir, 'pathuser'));
  const hidden = [srv.dataDir, homedir()];
  const leaks = (text) => hidden.filter((h) => String(text).includes(h));
  const settings = await c.rows("SELECT name, value FROM duckdb_settings() WHERE value LIKE '%/%'");
  assert.ok(settings.length >= 3, 'temp_directory, allowed_directories and secret_directory are paths');
  for (const { name, value } of settings) assert.deepEqual(leaks(value), [], `${name} = ${value}`);
  assert.deepEqual(await c.rows("SELECT current_setting('temp_directory') AS t"), [{ t: '/tmp' }]);
  const dbs = await c.rows('SELECT path FROM duckdb_databases() WHERE path IS NOT NULL');
  assert.ok(dbs.length >= 1);
  for (const { path } of dbs) assert.match(path, /^\/home\/pathuser\/databases\//);
  // errors name the path as the user wrote it, in the user's own view
  for (const sql of ["SELECT * FROM read_csv('/home/pathuser/missing.csv')",
    "ATTACH '/home/pathuser/no/such/dir/x.duckdb' AS x", "COPY (SELECT 1) TO '/home/pathuser/no/such/dir/x.csv'",
    "SELECT * FROM read_csv('missing_relative.csv')", "SELECT * FROM read_parquet('/etc/passwd')"]) {
    const r = await c.query(sql);
    assert.ok(r.error, sql);
    assert.deepEqual(leaks(r.error.message), [], `${sql}: ${r.error.message}`);
  }
  // the user's files are where the data directory keeps them
  await c.rows("COPY (SELECT 5 AS five) TO '/home/pathuser/five.csv'");
  assert.match(readFileSync(`${srv.dataDir}/users/pathuser/five.csv`, 'utf8'), /five\n5/);
  await c.close();
});

test('a server started as root runs each duckling as an unprivileged uid of its own, owning its files', async (t) => {
  if (process.getuid() !== 0) {
    t.skip('this test runs as a non-root user: ducklings already run as the server\'s own user');
    return;
  }
  const status = {};
  for (const user of ['uid_a', 'uid_b']) {
    const c = await MdClient.connect(srv.url, createToken(srv.dataDir, user));
    await c.rows('CREATE OR REPLACE TABLE t AS SELECT 1 AS one');
    const pid = [...srv.stderr.matchAll(new RegExp(`duckling for user ${user} started \\(pid (\\d+)\\)`, 'g'))].at(-1)[1];
    const lines = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n');
    const field = (name) => lines.find((l) => l.startsWith(`${name}:`)).split(/\s+/).slice(1);
    status[user] = { uid: Number(field('Uid')[0]), gid: Number(field('Gid')[0]), caps: field('CapEff')[0] };
    await c.close();
  }
  const { uid_a: a, uid_b: b } = status;
  assert.ok(a.uid > 0 && b.uid > 0, JSON.stringify(status));
  assert.notEqual(a.uid, b.uid, 'each user has a uid of their own');
  assert.equal(a.gid, a.uid);
  assert.equal(a.caps, '0000000000000000', 'no capabilities');
  const st = statSync(`${srv.dataDir}/users/uid_a/databases/my_db.duckdb`);
  assert.equal(st.uid, a.uid, 'the user\'s files belong to their duckling');
  // the server's own files do not
  assert.equal(statSync(`${srv.dataDir}/meta.sqlite3`).uid, 0);
});

test('a runaway query is stopped: capped options, statement_timeout, the server default', async () => {
  const c = await MdClient.connect(srv.url, alice);
  // the option that let an expression run for minutes is capped
  for (const sql of ['SET max_expression_depth = 100000000', "SET max_expression_depth = '1e9'",
    'SET max_expression_depth = 1001']) {
    const r = await c.query(sql);
    assert.equal(r.error?.code, 'PERMISSION_DENIED', sql);
    assert.match(r.error.message, /takes a whole number from 0 to 1000/);
  }
  await c.rows('SET max_expression_depth = 500');
  // a session's statement_timeout stops a query, with its own error; the session goes on
  assert.deepEqual(await c.rows("SET statement_timeout = '1s'"), [{ statement_timeout_ms: 1000n }]);
  const t0 = Date.now();
  const r = await c.query('SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3');
  const took = Date.now() - t0;
  assert.equal(r.error?.code, 'TIMEOUT');
  assert.match(r.error.message, /longer than its statement_timeout \(1 s\)/);
  assert.ok(took >= 900 && took < 8000, `stopped after ${took} ms`);
  assert.deepEqual(await c.rows('SELECT 1 AS alive'), [{ alive: 1 }]);
  // never past the server's limit (--statement-timeout, 3600 s by default); RESET goes back to it
  const over = await c.query("SET statement_timeout = '2h'");
  assert.equal(over.error?.code, 'PERMISSION_DENIED');
  assert.match(over.error.message, /at most 3600 s on this server/);
  assert.deepEqual(await c.rows('RESET statement_timeout'), [{ statement_timeout_ms: 3600000n }]);
  const bad = await c.query("SET statement_timeout = 'soon'");
  assert.equal(bad.error?.code, 'SQL_ERROR');
  await c.close();
  // the server's own limit applies to sessions that set nothing
  const s = await startServer({ args: ['--statement-timeout', '1'] });
  try {
    const d = await MdClient.connect(s.url, createToken(s.dataDir, 'dora'));
    const q = await d.query('SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3');
    assert.equal(q.error?.code, 'TIMEOUT');
    await d.close();
  } finally {
    await s.stop({ removeData: true });
  }
});

test('open sessions do not pin query engines: an idle one is stopped for another user, a busy one never', async () => {
  const s = await startServer({ args: ['--max-ducklings', '2'] });
  try {
    const [u1, u2, u3] = ['pin1', 'pin2', 'pin3'].map((u) => createToken(s.dataDir, u));
    const c1 = await MdClient.connect(s.url, u1);
    const c2 = await MdClient.connect(s.url, u2);
    const c3 = await MdClient.connect(s.url, u3);
    await c1.rows('CREATE TEMP TABLE scratch AS SELECT 1 AS x');
    await c1.rows('CREATE OR REPLACE TABLE kept AS SELECT 2 AS y');
    await c2.rows('SELECT 1');
    // pin2 is busy; pin1 only has its session open
    const long = c2.query('SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3');
    let r = await c3.query('SELECT 3 AS z');
    assert.equal(r.error?.code, 'SERVER_BUSY', 'right after use, no engine is idle long enough');
    let served = null;
    const t0 = Date.now();
    while (!served && Date.now() - t0 < 20000) {
      r = await c3.query('SELECT 3 AS z');
      if (!r.error) served = r;
      else await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(served, 'pin3 got an engine once pin1 had been idle');
    assert.match(s.stderr, /stopping the duckling for user pin1 .* whose 1 sessions are idle, for user pin3/);
    // the busy query was never touched
    c2.cancel(long.id);
    assert.equal((await long).error?.code, 'CANCELLED');
    // pin1's session is still open: its next request gets a fresh engine, after a notice
    let got = null;
    for (let i = 0; i < 80 && !got; i++) {
      const q = await c1.query('SELECT y FROM kept');
      if (!q.error) got = q;
      else await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(got, "pin1's session works again");
    const notice = c1.frames.find((f) => f.type === MSG.ERROR && f.json?.code === 'SESSION_RESET');
    assert.ok(notice, 'the client is told its temporary state was reset');
    const temp = await c1.query('SELECT x FROM scratch');
    assert.match(temp.error?.message ?? '', /scratch/);
    await Promise.all([c1, c2, c3].map((c) => c.close()));
  } finally {
    await s.stop({ removeData: true });
  }
});

test('the default memory_limit does not overcommit the machine: engines x limit <= 80% of RAM', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const [{ limit }] = await c.rows("SELECT current_setting('memory_limit') AS limit");
  await c.close();
  const m = srv.stdout.match(/Query engines: up to (\d+) at once, memory_limit (\d+)MB each/);
  assert.ok(m, srv.stdout);
  const total = Number(m[1]) * Number(m[2]) * 1048576;
  const ram = Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+) kB/)[1]) * 1024;
  assert.ok(total <= 0.8 * ram + 8 * 1048576, `${m[1]} x ${m[2]} MB on ${(ram / 2 ** 30).toFixed(1)} GiB`);
  assert.match(limit, /(GiB|MiB)/);
});

test('TLS: --tls-cert and --tls-key serve https and wss; plain HTTP on that port gets nothing; a bad key stops the start', async () => {
  const dir = newDataDir('tls');
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const ca = readFileSync(cert);
  const s = await startServer({ args: ['--tls-cert', cert, '--tls-key', key], ca });
  try {
    assert.match(s.stdout, /listening on https:\/\/127\.0\.0\.1:\d+/);
    assert.match(s.stdout, /WebSocket: wss:\/\//);
    assert.match(s.stdout, /Log in: +https:\/\/127\.0\.0\.1:\d+\/#token=mdt_/);
    const h = await httpGet(`${s.http}/healthz`, { ca });
    assert.equal(h.status, 200);
    const page = await httpGet(`${s.http}/`, { ca });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.match(page.headers['strict-transport-security'] ?? '', /max-age=\d+/);
    // an untrusted certificate is refused by the client, plain HTTP gets no answer
    await assert.rejects(httpGet(`${s.http}/healthz`), /self[- ]signed|unable to verify|certificate/i);
    await assert.rejects(httpGet(`http://127.0.0.1:${s.port}/healthz`));
    const tess = createToken(s.dataDir, 'tess');
    const c = await MdClient.connect(s.url, tess, { ca });
    assert.deepEqual(await c.rows('SELECT 42 AS answer'), [{ answer: 42 }]);
    await c.close();
    // the terminal client over wss://, trusting the certificate through SSL_CERT_FILE
    const cli = (env) => spawnSync(MDSERVER, ['client', '--url', s.url, '--token', tess, '--format', 'csv', '-c',
      'SELECT 6 * 7 AS answer'], { encoding: 'utf8', env: { ...process.env, ...env } });
    const ok = cli({ SSL_CERT_FILE: cert });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /answer\s+42/);
    const untrusted = cli({ SSL_CERT_FILE: '/nonexistent' });
    assert.notEqual(untrusted.status, 0);
    assert.match(untrusted.stderr, /certificate is not trusted for 127\.0\.0\.1.*SSL_CERT_FILE/);
  } finally {
    await s.stop({ removeData: true });
  }
  await assert.rejects(startServer({ args: ['--tls-cert', cert, '--tls-key', cert], ca }), /cannot use the TLS key/);
  rmSync(dir, { recursive: true, force: true });
});

test("the kernel confines a duckling: with DuckDB's own checks off (a test build), it still reads nothing outside its user's files", async (t) => {
  const s = await startServer({ bin: `${ROOT}/build/nosandbox/mdserver` });
  try {
    if (/this kernel has no Landlock/.test(s.stdout)) {
      t.skip('this kernel has no Landlock (the server said so at start)');
      return;
    }
    assert.match(s.stdout, /confined by Landlock \(ABI \d+\)/);
    const alice2 = createToken(s.dataDir, 'alice');
    const mallory = createToken(s.dataDir, 'mallory');
    const a = await MdClient.connect(s.url, alice2);
    await a.rows("CREATE TABLE secret AS SELECT 'the-secret' AS s");
    await a.close();
    const m = await MdClient.connect(s.url, mallory);
    // DuckDB's checks are off in this build: its own directory is readable as a plain path...
    const own = '/home/mallory/note.csv';
    await m.rows(`COPY (SELECT 1 AS one) TO '${own}'`);
    assert.deepEqual(await m.rows(`SELECT one FROM read_csv('${own}')`), [{ one: 1n }]);
    // ...and the kernel refuses everything else: files cannot be opened...
    // (the metadata file and the block store too: snapshots travel through the server)
    const refused = ['/etc/passwd', `${s.dataDir}/users/alice/databases/my_db.duckdb`, '/proc/1/environ',
      `${s.dataDir}/meta.sqlite3`, `${s.dataDir}/meta.sqlite3-wal`];
    // (paths of the data directory do not even exist in the duckling's view of the files)
    for (const path of refused) {
      const sql = `SELECT octet_length(content) AS n FROM read_blob('${path}')`;
      const r = await m.query(sql);
      if (r.error) assert.match(r.error.message, /Permission denied|No files found/i, path);
      else assert.deepEqual(await m.rows(sql), [], path);
    }
    const passwd = await m.query("SELECT octet_length(content) AS n FROM read_blob('/etc/passwd')");
    assert.match(passwd.error?.message ?? 'readable', /Permission denied/);
    // ...and directories cannot be listed (they are not empty)
    for (const dir of ['/etc', '/tmp', `${s.dataDir}/users`, `${s.dataDir}/users/alice`, '/root',
      `${s.dataDir}/store/objects`, `${s.dataDir}/store/objects/*`]) {
      assert.deepEqual(await m.rows(`SELECT count(*)::INT AS n FROM glob('${dir}/*')`), [{ n: 0 }], dir);
    }
    assert.ok(readdirSync(`${s.dataDir}/users`).includes('alice'));
    assert.ok(readdirSync(`${s.dataDir}/store/objects`).length > 0);
    const r = await m.query("COPY (SELECT 1) TO '/var/tmp/mdserver-escape.csv'");
    assert.match(r.error?.message ?? '', /Permission denied/i);
    // its /tmp is its own scratch directory, not the machine's
    await m.rows("COPY (SELECT 1 AS one) TO '/tmp/scratch-note.csv'");
    assert.ok(readdirSync(`${s.dataDir}/tmp/mallory`).includes('scratch-note.csv'));
    await m.close();
  } finally {
    await s.stop({ removeData: true });
  }
});

test('a query that does not stop when asked ends its engine after --cancel-grace, losing nothing committed', async () => {
  const s = await startServer({ args: ['--cancel-grace', '300'] });
  try {
    const c = await MdClient.connect(s.url, createToken(s.dataDir, 'gus'));
    await c.rows('CREATE TABLE kept AS SELECT 11 AS v');
    await c.rows("SET statement_timeout = '100ms'");
    // DuckDB plans a long IN list without looking at its interrupt flag
    const sql = `SELECT 1 IN (${Array.from({ length: 1500000 }, (_, i) => i).join(',')}) AS x`;
    const r = await c.query(sql);
    assert.equal(r.error?.code, 'DUCKLING_FAILED');
    assert.match(s.stderr, /a query did not stop within 300 ms of being asked to/);
    assert.deepEqual(await c.rows('SELECT v FROM kept'), [{ v: 11 }]);
    await c.close();
  } finally {
    await s.stop({ removeData: true });
  }
});
