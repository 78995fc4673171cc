// Black-box tests of a real ./mdserver on 127.0.0.1: HTTP, auth, queries,
// streaming, cancel, progress, errors, bad frames, the sandbox, ducklings
// killed mid-query, user isolation, persistence, limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { startServer, createToken, newDataDir, ROOT } from '../lib/server.mjs';
import { MdClient, MSG } from '../lib/mdclient.mjs';
import { encodeFrame } from '../../build/ui/js/wire.js';
import { ERRORS, MESSAGES } from '../../build/ui/js/protocol.js';

let srv, admin, alice, bob, reader;

before(async () => {
  srv = await startServer({ args: ['--max-frame-bytes', '65536', '--max-connections', '6'] });
  admin = srv.stdout.match(/Token \(shown once, keep it\): (mdt_\S+)/)?.[1];
  alice = createToken(srv.dataDir, 'alice');
  bob = createToken(srv.dataDir, 'bob');
  reader = createToken(srv.dataDir, 'alice', { readOnly: true });
});

after(async () => { await srv?.stop({ removeData: true }); });

/** Wait for `cond()` to hold, checking on every event-loop turn up to `ms`. */
async function until(cond, ms = 30000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}

/** Start a query that runs for many seconds and reports PROGRESS (a table
 * scan: DuckDB reports no progress for range() or cross products); resolves
 * once it is running, to {query} (a bare promise would be awaited too). */
async function startLongQuery(c) {
  await c.rows('CREATE TABLE IF NOT EXISTS big AS SELECT i FROM range(20000000) t(i)');
  let running = false;
  const q = c.query('SELECT max(md5(md5(md5(i::VARCHAR)))) FROM big', {
    onFrame: (f) => { if (f.type === MSG.PROGRESS) running = true; },
  });
  await until(() => running);
  return { query: q };
}

test('the generated build/ui/js/protocol.js holds the C tables of shared/protocol.h and shared/md_error.h', () => {
  const h = readFileSync(`${ROOT}/shared/protocol.h`, 'utf8');
  const rows = [...h.matchAll(/MSG\((\w+),\s*(0x[0-9a-fA-F]+),[^)]*?MD_PAYLOAD_(\w+),\s*MD_SERVE_(\w+),\s*MD_ENDS_(\w+)/g)];
  assert.ok(rows.length >= 15);
  assert.equal(Object.keys(MESSAGES).length, rows.length);
  for (const [, name, code, payload, serve, ends] of rows) {
    assert.equal(MSG[name], Number(code), name);
    assert.deepEqual({ ...MESSAGES[Number(code)] },
      { name, payload: payload.toLowerCase(), serve: serve.toLowerCase(), ends: ends.toLowerCase() }, name);
  }
  const e = readFileSync(`${ROOT}/shared/md_error.h`, 'utf8');
  const errs = [...e.matchAll(/XX\(\w+,\s*(-\d+),\s*"(\w+)"/g)];
  assert.ok(errs.length >= 24);
  assert.deepEqual(Object.entries(ERRORS).map(([k, v]) => [k, v.status]), errs.map(([, st, wire]) => [wire, Number(st)]));
});

test('first run prints a login URL with an admin token', () => {
  assert.match(srv.stdout, /Log in: +http:\/\/127\.0\.0\.1:\d+\/#token=mdt_/);
  assert.ok(admin, 'admin token printed');
});

test('HTTP: /healthz, UI with COOP/COEP and MIME types, no directory listing', async () => {
  const h = await fetch(`${srv.http}/healthz`);
  assert.equal(h.status, 200);
  const page = await fetch(`${srv.http}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal(page.headers.get('access-control-allow-origin'), null);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const js = await fetch(`${srv.http}/js/wire.js`);
  assert.match(js.headers.get('content-type'), /javascript/);
  const dir = await fetch(`${srv.http}/js/`);
  assert.notEqual(dir.status, 200, 'directory listing must be off');
  // The browser engine the build makes, with the MIME types duckdb-wasm and browsers need.
  const wasm = await fetch(`${srv.http}/engine.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const mjs = await fetch(`${srv.http}/engine.mjs`);
  assert.match(mjs.headers.get('content-type'), /^text\/javascript/);
  assert.match(await mjs.text(), /createEngine/);
  // duckdb-wasm from this server, bundled: no bare module names left for the page to resolve.
  const dw = await fetch(`${srv.http}/vendor/duckdb/duckdb-eh.wasm`);
  assert.equal(dw.status, 200);
  assert.equal(dw.headers.get('content-type'), 'application/wasm');
  await dw.arrayBuffer();
  const worker = await fetch(`${srv.http}/vendor/duckdb/duckdb-browser-eh.worker.js`);
  assert.match(worker.headers.get('content-type'), /^text\/javascript/);
  await worker.arrayBuffer();
  const bundle = await (await fetch(`${srv.http}/vendor/duckdb/duckdb.mjs`)).text();
  assert.match(bundle, /AsyncDuckDB/);
  assert.doesNotMatch(bundle, /from\s*["'](apache-arrow|flatbuffers|tslib)["']/);
});

test('auth: a good token gets WELCOME with the user and my_db', async () => {
  const c = await MdClient.connect(srv.url, alice);
  assert.equal(c.welcome.user, 'alice');
  assert.equal(c.welcome.read_only, false);
  assert.equal(c.welcome.database, 'my_db');
  assert.equal(c.welcome.duckdb_version, 'v1.4.4');
  const a = await MdClient.connect(srv.url, admin);
  assert.equal(a.welcome.user, 'admin');
  await c.close();
  await a.close();
});

test('auth: a bad token gets ERROR AUTH_FAILED and the connection is closed', async () => {
  for (const bad of ['mdt_' + 'A'.repeat(43), 'nonsense', '']) {
    await assert.rejects(MdClient.connect(srv.url, bad), (e) => e.code === 'AUTH_FAILED');
  }
  const c = await MdClient.connect(srv.url, undefined, { hello: false });
  c.send(MSG.HELLO, 0, { protocol: 1, token: 'mdt_' + 'B'.repeat(43) });
  const f = await c.next();
  assert.equal(f.json.code, 'AUTH_FAILED');
  await c.closed;
});

test('auth: anything before HELLO is a protocol error and closes', async () => {
  const c = await MdClient.connect(srv.url, undefined, { hello: false });
  c.send(MSG.QUERY, 1, { sql: 'SELECT 1' });
  const f = await c.next();
  assert.equal(f.type, MSG.ERROR);
  assert.equal(f.json.code, 'PROTOCOL_ERROR');
  await c.closed;
});

test('queries: types, several statements, one result per statement', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const r = await c.query(`SELECT 42 AS answer, 'duck' AS s, NULL::INTEGER AS n, 1.5::DECIMAL(10,2) AS d,
                                  DATE '2024-02-29' AS day, [1,2,3] AS l, {'a': 1} AS st;
                           SELECT * FROM range(5) t(i)`);
  assert.equal(r.error, null);
  assert.equal(r.results.length, 2);
  const [first, second] = r.results;
  assert.equal(first.end.final, false);
  assert.equal(second.end.final, true);
  assert.equal(second.end.rows, 5);
  const row = first.table.get(0).toJSON();
  assert.equal(row.answer, 42);
  assert.equal(row.s, 'duck');
  assert.equal(row.n, null);
  assert.deepEqual([...row.l], [1, 2, 3]);
  assert.equal(second.table.numRows, 5);
  await c.close();
});

test('a 1,000,000-row result streams in batches and every row arrives', async () => {
  const c = await MdClient.connect(srv.url, alice);
  let batches = 0;
  const r = await c.query('SELECT i, i * 2 AS j FROM range(1000000) t(i)', {
    onFrame: (f) => { if (f.type === MSG.RESULT_BATCH) batches++; },
  });
  assert.equal(r.error, null);
  const t = r.results[0].table;
  assert.equal(t.numRows, 1000000);
  assert.equal(r.results[0].end.rows, 1000000);
  assert.ok(batches > 10, `streamed in ${batches} batches`);
  let sum = 0n;
  for (const v of t.getChild('i')) sum += v;
  assert.equal(sum, 499999500000n);
  await c.close();
});

test('cancel stops a long query with ERROR CANCELLED; the connection stays usable', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const { query: q } = await startLongQuery(c);
  const t0 = Date.now();
  c.cancel(q.id);
  const r = await q;
  assert.equal(r.error?.code, 'CANCELLED');
  assert.ok(Date.now() - t0 < 5000, 'cancelled promptly');
  assert.deepEqual(await c.rows('SELECT 7 AS x'), [{ x: 7 }]);
  await c.close();
});

test('PROGRESS messages arrive while a long query runs', async () => {
  const c = await MdClient.connect(srv.url, alice);
  await c.rows('CREATE TABLE IF NOT EXISTS mid AS SELECT i FROM range(5000000) t(i)');
  const r = await c.query('SELECT max(md5(i::VARCHAR)) FROM mid');
  assert.equal(r.error, null);
  assert.ok(r.progress.length >= 1, `got ${r.progress.length} PROGRESS messages`);
  for (const p of r.progress) assert.ok(p.percent >= 0 && p.percent <= 100);
  await c.close();
});

test('SQL errors carry a stable code, the message and the position', async () => {
  const c = await MdClient.connect(srv.url, alice);
  let r = await c.query('SELECT 1 FORM t');
  assert.equal(r.error.code, 'SQL_ERROR');
  assert.match(r.error.message, /^Parser Error: syntax error/);
  assert.equal(r.error.position, 14);
  r = await c.query('SELECT 1; SELECT nosuchcol FROM range(3)');
  assert.equal(r.error.code, 'SQL_ERROR');
  assert.match(r.error.message, /Binder Error: .*nosuchcol/);
  assert.equal(r.error.position, 17, 'position counts from the start of the whole text');
  assert.equal(r.results.length, 1, 'the first statement ran');
  await c.close();
});

test('malformed frames get ERROR and the connection keeps working', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const good = encodeFrame(MSG.PING, 9, new Uint8Array([1, 2]));
  const cases = {
    short: new Uint8Array([0x4d, 0x44, 1]),
    magic: Object.assign(good.slice(), { 0: 0x58 }),
    version: Object.assign(good.slice(), { 2: 9 }),
    flags: Object.assign(good.slice(), { 4: 1 }),
    type: Object.assign(good.slice(), { 3: 0x7f }),
    length: Object.assign(good.slice(), { 12: 200 }),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    c.sendRaw(bytes);
    const f = await c.next();
    assert.equal(f.type, MSG.ERROR, name);
    assert.equal(f.json.code, 'BAD_FRAME', `${name}: ${f.json.message}`);
  }
  c.ws.send('text is not the protocol');
  assert.equal((await c.next()).json.code, 'BAD_FRAME');
  c.send(MSG.QUERY, 77, { nosql: true });
  const bad = await c.next();
  assert.equal(bad.json.code, 'INVALID_ARGUMENT');
  c.send(MSG.PING, 5, new Uint8Array([7, 7, 7]));
  const pong = await c.next();
  assert.equal(pong.type, MSG.PONG);
  assert.deepEqual([...pong.payload], [7, 7, 7]);
  assert.deepEqual(await c.rows('SELECT 1 AS ok'), [{ ok: 1 }]);
  await c.close();
});

test('oversized frames get ERROR TOO_LARGE; a server-only message type closes', async () => {
  const c = await MdClient.connect(srv.url, alice);
  c.send(MSG.QUERY, 3, { sql: `SELECT '${'x'.repeat(70000)}'` });
  const f = await c.next();
  assert.equal(f.json.code, 'TOO_LARGE');
  assert.equal(f.id, 3);
  assert.deepEqual(await c.rows('SELECT 2 AS ok'), [{ ok: 2 }]);
  c.send(MSG.RESULT_END, 4, {});
  assert.equal((await c.next()).json.code, 'PROTOCOL_ERROR');
  await c.closed;
});

test('sandbox: escapes are refused with a clear error', async () => {
  const c = await MdClient.connect(srv.url, alice);
  const attempts = {
    "SELECT * FROM read_csv('/etc/passwd')": /Permission Error: .*disabled by configuration/,
    "COPY (SELECT 1) TO '/var/tmp/x'": /Permission Error/, // (a duckling's /tmp is its user's scratch)
    "ATTACH '/var/tmp/y.db'": /Permission Error/,
    'INSTALL httpfs': /Permission Error|disabled/,
    "LOAD '/tmp/evil.duckdb_extension'": /disabled/,
    "SET memory_limit = '100GB'": /does not let a session change "memory_limit"/,
    'SET enable_external_access = true': /does not let a session change "enable_external_access"/,
    "PRAGMA temp_directory = '/tmp'": /does not let a session change "temp_directory"/,
    "SET secret_directory = '/tmp'": /does not let a session change "secret_directory"/,
    'SET GLOBAL lock_configuration = false': /does not let a session change "lock_configuration"/,
    'RESET allowed_directories': /does not let a session change "allowed_directories"/,
    'EXPLAIN ANALYZE SET threads = 64': /EXPLAIN of a SET statement is not run/,
    "SELECT * FROM glob('/etc/*')": /Permission Error/,
    "SELECT * FROM read_text('../bob/databases/my_db.duckdb')": /Permission Error|No files found/,
  };
  for (const [sql, re] of Object.entries(attempts)) {
    const r = await c.query(sql);
    assert.ok(r.error, `${sql} must fail`);
    assert.match(r.error.message, re, sql);
  }
  await c.close();
});

test('sandbox: a SET inside the files IMPORT DATABASE reads is refused, what went before stays', async () => {
  const dir = `${srv.dataDir}/users/alice/import_evil`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/schema.sql`, "CREATE TABLE imp_t (i INTEGER);\nSET memory_limit = '100GB';\n");
  writeFileSync(`${dir}/load.sql`, '');
  const c = await MdClient.connect(srv.url, alice);
  const before = (await c.rows("SELECT current_setting('memory_limit') AS m"))[0].m;
  const r = await c.query("IMPORT DATABASE '/home/alice/import_evil'");
  assert.equal(r.error?.code, 'PERMISSION_DENIED', r.error?.message);
  assert.match(r.error.message, /IMPORT DATABASE/);
  assert.deepEqual(await c.rows("SELECT current_setting('memory_limit') AS m"), [{ m: before }]);
  await c.close();
});

test('sandbox: DuckDB\'s logging functions are refused; one reached at run time costs a fresh duckling, no data', async () => {
  const logger = createToken(srv.dataDir, 'logger');
  const outside = `${srv.dataDir}-outside-logs`; // not under the user's directory
  let c = await MdClient.connect(srv.url, logger);
  const r = await c.query(`CALL enable_logging(storage_path := '${outside}')`);
  assert.equal(r.error?.code, 'PERMISSION_DENIED', r.error?.message);
  assert.match(r.error.message, /call enable_logging: DuckDB's logging belongs to the server/);
  await c.rows('CREATE TABLE kept AS SELECT 7 AS x');
  // a name built at run time is not seen in the text: the log then points outside the sandbox, every
  // query of the duckling fails, and when the session ends the duckling exits for a fresh one
  await c.query(`SELECT * FROM query('SELECT * FROM enable_' || 'logging(storage_path := ''${outside}'')')`);
  await c.close();
  await until(async () => {
    try {
      c = await MdClient.connect(srv.url, logger);
      const q = await Promise.race([c.query('SELECT x FROM kept'),
        new Promise((resolve) => setTimeout(() => resolve({ error: 'no answer in 5 s' }), 5000))]);
      await c.close();
      return !q.error && q.results[0].table.toArray()[0].x === 7;
    } catch { return false; }
  }, 20000);
  assert.equal(existsSync(outside), false);
});

test('session options: SET holds for its session only and is put back when the session ends', async () => {
  const nullsFirst = "SELECT x FROM (VALUES (1), (NULL)) t(x) ORDER BY x LIMIT 1";
  const a = await MdClient.connect(srv.url, alice);
  const b = await MdClient.connect(srv.url, alice);
  await a.rows("SET default_null_order = 'nulls_first'");
  await a.rows("PRAGMA default_order = 'DESC'");
  await a.rows("SET TimeZone = 'Asia/Tokyo'");
  await a.rows("SET disabled_optimizers = 'top_n'");
  assert.deepEqual(await a.rows(nullsFirst), [{ x: null }]);
  assert.deepEqual(await b.rows(nullsFirst), [{ x: 1 }]); // another session of the same user
  assert.deepEqual(await a.rows("SELECT current_setting('TimeZone') AS tz, current_setting('default_order') AS o"),
    [{ tz: 'Asia/Tokyo', o: 'DESC' }]);
  assert.deepEqual(await b.rows("SELECT current_setting('TimeZone') AS tz"), [{ tz: 'UTC' }]);
  // the one DuckDB-global option holds in the user's duckling until its session ends
  assert.deepEqual(await b.rows("SELECT current_setting('disabled_optimizers') AS d"), [{ d: 'top_n' }]);
  const g = await a.query("SET GLOBAL default_null_order = 'nulls_first'");
  assert.equal(g.error?.code, 'PERMISSION_DENIED');
  assert.match(g.error.message, /use SET default_null_order/);
  await a.rows("SET VARIABLE v = 42");
  assert.deepEqual(await a.rows("SELECT getvariable('v') AS v"), [{ v: 42 }]);
  await a.rows('CREATE TEMP TABLE "odd ""name" AS SELECT 1 AS x; CREATE TEMP VIEW tv AS SELECT 1 AS x; '
    + 'CREATE TEMP MACRO tm(a) AS a + 1; CREATE TEMP SEQUENCE ts');
  await a.close();
  await b.close();
  // the duckling ends a session after its socket closes, so the global one goes a moment later
  const probe = await MdClient.connect(srv.url, alice);
  await until(async () => (await probe.rows("SELECT current_setting('disabled_optimizers') AS d"))[0].d === '', 10000);
  await probe.close();
  // pooled connections come back clean: the pool is a stack, and a's connection is among the three
  // released last (a, b, probe), so three sessions open at once get it
  const fresh = await Promise.all([0, 1, 2].map(() => MdClient.connect(srv.url, alice)));
  for (const c of fresh) {
    assert.deepEqual(await c.rows(nullsFirst), [{ x: 1 }]);
    assert.deepEqual(await c.rows("SELECT current_setting('TimeZone') AS tz, current_setting('default_order') "
      + "LIKE 'ASC%' AS o, current_setting('disabled_optimizers') AS d"), [{ tz: 'UTC', o: true, d: '' }]);
    // nor do its temp objects or variables
    assert.deepEqual(await c.rows("SELECT (SELECT count(*) FROM duckdb_tables() WHERE temporary) AS t, "
      + "(SELECT count(*) FROM duckdb_views() WHERE database_name = 'temp') AS v, "
      + "(SELECT count(*) FROM duckdb_sequences() WHERE temporary) AS s, "
      + "(SELECT count(*) FROM duckdb_functions() WHERE database_name = 'temp' AND function_type = 'macro' "
      + "AND function_name <> 'md_current_client_connection_id') AS m, "
      + "getvariable('v') AS var"), [{ t: 0n, v: 0n, s: 0n, m: 0n, var: null }]);
    await c.close();
  }
});

test('read-only token: reads work, every kind of write is refused', async () => {
  const w = await MdClient.connect(srv.url, alice);
  await w.rows('CREATE OR REPLACE TABLE ro_t AS SELECT 1 AS a');
  const c = await MdClient.connect(srv.url, reader);
  assert.equal(c.welcome.read_only, true);
  assert.deepEqual(await c.rows('SELECT a FROM ro_t'), [{ a: 1 }]);
  const own = '/home/alice/out.csv'; // inside alice's own directory (as her duckling sees it)
  for (const sql of ['INSERT INTO ro_t VALUES (2)', 'CREATE TABLE ro_x (a INT)', 'DROP TABLE ro_t',
    'UPDATE ro_t SET a = 5', 'BEGIN', `COPY ro_t TO '${own}'`]) {
    const r = await c.query(sql);
    assert.equal(r.error?.code, 'READ_ONLY', `${sql}: ${r.error?.message}`);
  }
  assert.deepEqual(await w.rows('SELECT a FROM ro_t'), [{ a: 1 }]);
  // The same COPY works for a read-write session: the user's directory is theirs.
  assert.deepEqual(await w.rows(`COPY ro_t TO '${own}'`), [{ Count: 1n }]);
  assert.deepEqual(await w.rows(`SELECT a FROM read_csv('${own}')`), [{ a: 1n }]);
  await c.close();
  await w.close();
});

test('two users never see each other\'s tables', async () => {
  const a = await MdClient.connect(srv.url, alice);
  const b = await MdClient.connect(srv.url, bob);
  await a.rows("CREATE OR REPLACE TABLE secrets AS SELECT 'alice' AS owner");
  const r = await b.query('SELECT * FROM secrets');
  assert.match(r.error?.message ?? '', /Catalog Error: Table with name secrets does not exist/);
  await b.rows("CREATE OR REPLACE TABLE secrets AS SELECT 'bob' AS owner");
  assert.deepEqual(await a.rows('SELECT owner FROM secrets'), [{ owner: 'alice' }]);
  assert.deepEqual(await b.rows('SELECT owner FROM secrets'), [{ owner: 'bob' }]);
  assert.deepEqual(await a.rows('SELECT current_database() AS db'), [{ db: 'my_db' }]);
  await a.close();
  await b.close();
});

test('a duckling killed with SIGKILL mid-query: ERROR, server stays up, next query gets a fresh one', async () => {
  const c = await MdClient.connect(srv.url, bob);
  await c.rows("CREATE OR REPLACE TABLE kept AS SELECT 'before' AS v");
  const before = srv.children();
  assert.ok(before.length >= 1, 'ducklings are children of the server');
  const { query: q } = await startLongQuery(c);
  const pids = srv.children();
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  const r = await q;
  assert.equal(r.error?.code, 'DUCKLING_FAILED');
  assert.match(r.error.message, /run the query again/);
  assert.equal((await fetch(`${srv.http}/healthz`)).status, 200);
  assert.deepEqual(await c.rows('SELECT v FROM kept'), [{ v: 'before' }]);
  const after = srv.children();
  assert.ok(after.every((p) => !pids.includes(p)), 'a new duckling serves the next query');
  await c.close();
});

test('connections over the limit are refused with a clear error, never a hang', async () => {
  const open = [];
  let refused = null;
  for (let i = 0; i < 10 && !refused; i++) {
    try {
      open.push(await MdClient.connect(srv.url, alice));
    } catch (e) {
      refused = e;
    }
  }
  assert.equal(refused?.code, 'SERVER_BUSY');
  assert.match(refused.message, /maximum of 6 connections/);
  await Promise.all(open.map((c) => c.close()));
});

test('tables persist across a server restart', async () => {
  const dataDir = newDataDir('persist');
  let s = await startServer({ dataDir });
  const tok = createToken(dataDir, 'carol');
  let c = await MdClient.connect(s.url, tok);
  await c.rows('CREATE TABLE t AS SELECT i, i * i AS sq FROM range(1000) t(i)');
  await c.rows('INSERT INTO t VALUES (-1, 1)');
  await c.close();
  assert.equal(await s.stop(), 0, 'clean exit on SIGTERM');
  s = await startServer({ dataDir });
  assert.doesNotMatch(s.stdout, /First run/);
  c = await MdClient.connect(s.url, tok);
  assert.deepEqual(await c.rows('SELECT count(*)::INT AS n, sum(sq)::BIGINT AS s FROM t'),
    [{ n: 1001, s: 332833501n }]);
  await c.close();
  await s.stop({ removeData: true });
});

test('CATALOG: databases, schemas, tables with row counts and columns; pushed again after DDL', async () => {
  const c = await MdClient.connect(srv.url, bob);
  for (const ddl of ['CREATE OR REPLACE TABLE cat_t AS SELECT i AS id, i::VARCHAR AS label FROM range(42) t(i)',
    'CREATE OR REPLACE VIEW cat_v AS SELECT id FROM cat_t']) {
    await c.rows(ddl);
    const push = await c.next(); // each DDL is followed by CATALOG(0)
    assert.deepEqual([push.type, push.id], [MSG.CATALOG, 0]);
  }
  c.send(MSG.CATALOG, 501, {});
  let f = await c.next();
  assert.equal(f.type, MSG.CATALOG);
  assert.equal(f.id, 501);
  const names = f.json.databases.map((d) => d.name);
  assert.ok(names.includes('my_db') && names.includes('temp'), names.join());
  assert.ok(!names.includes('system'));
  const main = f.json.databases.find((d) => d.name === 'my_db').schemas.find((s) => s.name === 'main');
  const t = main.tables.find((x) => x.name === 'cat_t');
  assert.equal(t.view, false);
  assert.equal(t.rows, 42);
  assert.deepEqual(t.columns, [{ name: 'id', type: 'BIGINT' }, { name: 'label', type: 'VARCHAR' }]);
  const v = main.tables.find((x) => x.name === 'cat_v');
  assert.equal(v.view, true);
  assert.deepEqual(v.columns.map((x) => x.name), ['id']);
  assert.ok(!main.tables.some((x) => x.name === 'secrets' && x.columns.some((col) => col.name === 'nope')));

  // DDL: the answer ends, then CATALOG(0) arrives with the new table; a plain SELECT pushes nothing.
  const r = await c.query('CREATE TEMP TABLE scratch AS SELECT 1 AS x; SELECT 1');
  assert.equal(r.error, null);
  f = await c.next();
  assert.equal(f.type, MSG.CATALOG);
  assert.equal(f.id, 0);
  const temp = f.json.databases.find((d) => d.name === 'temp');
  assert.ok(temp.schemas.some((s) => s.tables.some((x) => x.name === 'scratch')));
  await c.rows('SELECT 2');
  assert.equal(c.frames.length, 0, 'no CATALOG after a query that changed nothing');
  await c.close();
});
