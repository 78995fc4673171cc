// Browser tests of the query page: Debian's Chromium (playwright-core) against
// a real ./mdserver on 127.0.0.1, driven through the page's data-testid
// elements.  Every request the browser makes is recorded; the last test
// fails if one left the server's origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createToken } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';
import { sel, openPage, readPage, runSql, startSql, waitIdle } from '../lib/page.mjs';

let srv, browser, page, token;
const pageErrors = [];

before(async () => {
  srv = await startServer();
  token = createToken(srv.dataDir, 'pageuser');
  browser = await launch();
  page = browser.page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // the page's Content-Security-Policy must never have to block anything it does
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text()); });
});
after(async () => {
  await browser?.close();
  await srv?.stop({ removeData: true });
});

test('a bad token shows the login form with the reason; a good one logs in and leaves the URL', async () => {
  await page.goto(`${srv.http}/#token=mdt_${'0'.repeat(64)}`);
  await page.waitForSelector(`${sel('login-error')}:not([hidden])`);
  assert.match(await page.textContent(sel('login-error')), /authentication failed/);
  assert.equal(await page.isVisible(sel('sql-input')), false);

  await openPage(page, srv.http, token);
  assert.equal(await page.isVisible(sel('sql-input')), true);
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
  assert.equal(await page.evaluate(() => localStorage.getItem('mdserver.token')), token);
  // a reload logs in again from storage
  await page.goto(`${srv.http}/`);
  await page.evaluate(() => window.mdPage.ready);
  assert.match(await page.textContent(sel('connection')), /pageuser/);
  // a login link opened in this logged-in tab leaves the address bar at once
  await page.evaluate((t) => { location.hash = `token=${t}`; }, token);
  await page.waitForFunction(() => !location.hash.includes('token='));
  assert.match(await page.textContent(sel('connection')), /pageuser/);
});

test('a token in the query string is never used (it reaches Referer headers and logs), only removed', async () => {
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${srv.http}/?token=${token}`);
  await page.waitForSelector(`${sel('login')}:not([hidden])`);
  assert.equal(new URL(page.url()).search, '', 'the token is removed from the address bar');
  assert.equal(await page.evaluate(() => localStorage.getItem('mdserver.token')), null);
  await openPage(page, srv.http, token);
});

test('a remote query runs on the server and its result is cached in the browser', async () => {
  const r = await runSql(page, 'SELECT 42 AS answer, current_database() AS db');
  assert.equal(r.error, null);
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.head, ['answer', 'db']);
  assert.deepEqual(r.rows, [['42', 'my_db']]);
  assert.match(r.status, /^remote · 1 row · \d+ ms · [\d.]+ (B|KiB) received · cached as md_cache\.main\.r\d+$/);
});

test('Ctrl+Enter runs; a local query runs in duckdb-wasm', async () => {
  await page.fill(sel('sql-input'), 'CREATE TABLE memory.main.local_t AS SELECT i, i * i AS sq FROM range(10) r(i)');
  await page.press(sel('sql-input'), 'Control+Enter');
  await waitIdle(page);
  let r = await readPage(page);
  assert.equal(r.error, null);
  assert.equal(r.site, 'local');
  // unqualified: found in the local catalog, which the page refreshed after the CREATE
  r = await runSql(page, 'SELECT sum(sq) AS s, count(*) AS n FROM local_t');
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['285', '10']]);
  assert.match(r.status, /^local · 1 row · \d+ ms$/);
});

test('a 100,000-row remote result arrives in the cache, then is queried locally', async () => {
  const r = await runSql(page, 'SELECT i, i % 7 AS m, \'v\' || i AS s FROM range(100000) r(i)');
  assert.equal(r.error, null);
  assert.equal(r.site, 'remote');
  assert.equal(r.rowCount, 100000);
  assert.equal(r.rows.length, 100, 'the page shows the first rows');
  const table = r.status.match(/cached as (md_cache\.main\.r\d+)/)[1];
  const q = await runSql(page, `SELECT count(*) AS n, sum(i) AS s, count(DISTINCT m) AS d, max(length(s)) AS l FROM ${table}`);
  assert.equal(q.error, null);
  assert.equal(q.site, 'local', 'the cached result is a local table');
  assert.deepEqual(q.rows, [['100000', '4999950000', '7', '6']]);
});

test('a dropped CSV and a picked CSV are queryable locally by name', async () => {
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['id,name,score\n1,ada,3.5\n2,bob,4.25\n3,cy,\n'], 'dropped.csv', { type: 'text/csv' }));
    document.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction((s) => /added dropped\.csv/.test(document.querySelector(s).textContent), sel('status'));
  let r = await runSql(page, "SELECT count(*) AS n, sum(score) AS total, max(name) AS last FROM 'dropped.csv'");
  assert.equal(r.error, null);
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['3', '7.75', 'cy']]);

  await page.setInputFiles(sel('file-input'), {
    name: 'picked.csv', mimeType: 'text/csv', buffer: Buffer.from('k,v\na,1\nb,2\n'),
  });
  await page.waitForFunction((s) => /added picked\.csv/.test(document.querySelector(s).textContent), sel('status'));
  r = await runSql(page, "SELECT string_agg(k || v, ',' ORDER BY k) AS kv FROM read_csv('picked.csv')");
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['a1,b2']]);
});

test('a long remote query shows progress; Cancel stops it and the session keeps working', async () => {
  // a table scan: DuckDB reports no progress for range() alone
  let r = await runSql(page, 'CREATE TABLE big AS SELECT i FROM range(20000000) t(i)');
  assert.equal(r.error, null);
  await startSql(page, 'SELECT max(md5(md5(md5(i::VARCHAR)))) FROM big');
  await page.waitForSelector(`${sel('progress')}:not([hidden])`, { timeout: 20000 });
  const percent = await page.evaluate((s) => document.querySelector(s).value, sel('progress'));
  assert.ok(percent >= 0 && percent <= 100, `progress ${percent}`);
  const t0 = Date.now();
  await page.click(sel('cancel'));
  await waitIdle(page, 15000);
  r = await readPage(page);
  assert.equal(r.code, 'CANCELLED', r.error);
  assert.equal(r.status, 'cancelled');
  assert.ok(Date.now() - t0 < 10000, 'cancelled promptly');
  assert.equal(await page.isVisible(sel('progress')), false);
  const again = await runSql(page, 'SELECT 7 AS seven');
  assert.deepEqual(again.rows, [['7']]);
});

test('Cancel stops a long local query in duckdb-wasm', async () => {
  // reads local_t, so it runs locally; ~10 billion rows of work
  await startSql(page, 'SELECT count(*) FROM local_t, range(1000000000) r(j) WHERE (j + i) % 7 = 3');
  await page.waitForFunction((s) => /locally/.test(document.querySelector(s).textContent), sel('status'));
  // no wait for the query to be pending in duckdb-wasm: Cancel must work at any moment
  const t0 = Date.now();
  await page.click(sel('cancel'));
  await waitIdle(page, 15000);
  const r = await readPage(page);
  assert.equal(r.code, 'CANCELLED', r.error);
  assert.ok(Date.now() - t0 < 10000, 'cancelled promptly');
  const again = await runSql(page, 'SELECT count(*) AS n FROM local_t');
  assert.deepEqual(again.rows, [['10']]);
});

test('errors are shown with their position in the script, remote and local', async () => {
  const script = 'SELECT 1;\nSELECT * FROM no_such_table';
  let r = await runSql(page, script);
  assert.equal(r.code, 'SQL_ERROR');
  assert.match(r.error, /no_such_table does not exist/);
  assert.equal(r.position, script.indexOf('no_such_table'));
  assert.match(r.error, /at line 2, column 15:\n {2}SELECT \* FROM no_such_table\n {16}\^/);

  r = await runSql(page, 'SELECT nope FROM local_t');
  assert.equal(r.site, null);
  assert.match(r.error, /Binder Error: .*nope/);
  assert.equal(r.position, 'SELECT '.length);
  assert.deepEqual(r.rows, [], 'a failed query leaves no stale result on screen');
});

test('a script stops at its first failing statement; what ran before it stays in effect', async () => {
  const script = 'USE memory;\nSELECT * FROM no_such_local_table';
  let r = await runSql(page, script);
  assert.equal(r.code, 'SQL_ERROR');
  assert.equal(r.position, script.indexOf('no_such_local_table'));
  // USE ran: unqualified statements now run at the local site
  r = await runSql(page, 'SELECT current_database() AS db');
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['memory']]);
  r = await runSql(page, 'USE my_db; SELECT current_database() AS db');
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.rows, [['my_db']]);
});

test('the database statements go to the server: create, time travel, SHOW DATABASES', async () => {
  let r = await runSql(page, 'CREATE DATABASE page_db; CREATE TABLE page_db.t AS SELECT 1 AS v');
  assert.equal(r.error, null);
  assert.equal(r.site, 'remote');
  r = await runSql(page, "SELECT max(snapshot_id)::INTEGER AS s FROM md_snapshots('page_db')");
  const first = r.rows[0][0];
  r = await runSql(page, 'INSERT INTO page_db.t VALUES (2)');
  assert.equal(r.error, null);
  // the catalog push after ATTACH lets the page route page_past.* to the server
  r = await runSql(page, `ATTACH 'md:page_db' AS page_past (SNAPSHOT ${first})`);
  assert.equal(r.error, null);
  r = await runSql(page, 'SELECT (SELECT sum(v) FROM page_past.t)::INTEGER AS past, (SELECT sum(v) FROM page_db.t)::INTEGER AS now');
  assert.equal(r.error, null);
  assert.deepEqual(r.rows, [['1', '3']]);
  r = await runSql(page, 'SHOW DATABASES');
  assert.equal(r.site, 'server');
  const modes = r.rows.map((row) => `${row[0]}/${row[1]}/${row[2]}`);
  assert.ok(modes.includes('page_db/page_db/read_write') && modes.includes('page_db/page_past/snapshot'), modes.join(' '));
  r = await runSql(page, 'DETACH page_past; DROP DATABASE page_db');
  assert.equal(r.error, null);
});

test('the page session speaks PARSE, DEPARSE and UPLOAD (the messages dual execution is built on)', async () => {
  const r = await page.evaluate(async () => {
    // the session's protocol client (remote.js) as the session worker runs it, here on its own
    const { RemoteSession } = await import('/js/remote.js');
    const remote = new RemoteSession(`ws://${location.host}/ws`, localStorage.getItem('mdserver.token'));
    await remote.connect();
    const tree = await remote.parse('SELECT 40 + 2 AS answer');
    const sql = await remote.deparse(tree);
    // a remote result's Arrow bytes, sent back as an upload (R->L, then L->R)
    const parts = [];
    const q = remote.query('SELECT range::INTEGER AS id, range % 3 AS m FROM range(5000)', {
      onSchema: (b) => parts.push(b.slice()), onBatch: (b) => parts.push(b.slice()),
    });
    await q.done;
    parts.push(new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((off, p) => (all.set(p, off), off + p.length), 0);
    const up = await remote.upload('bounced', all, { frameBytes: 1000 });
    const end = await remote.query('SELECT sum(id) FROM bounced WHERE m = 0').done;
    let error = null;
    try { await remote.parse('INSERT INTO t VALUES (1)'); } catch (e) { error = e.code; }
    remote.close();
    return { hasTree: tree.includes('"SELECT_NODE"'), sql, up, rows: end.rows, error };
  });
  assert.equal(r.hasTree, true);
  assert.match(r.sql, /^SELECT \(?40 \+ 2\)? AS answer$/);
  assert.equal(r.up.rows, 5000);
  assert.equal(r.up.table, 'temp.main.bounced');
  assert.equal(r.rows, 1);
  assert.equal(r.error, 'UNSUPPORTED');
});

test('the main thread only renders: no long task while a 2M-row remote result streams into the cache', async (t) => {
  await runSql(page, 'SELECT 1'); // what the page did before this test is over
  // Two runs: work the main thread does for every batch (as when it decoded
  // them itself) shows in both; a one-off pause of a loaded 2-core machine
  // (a garbage collection) does not.
  const runs = [];
  for (let run = 0; run < 2; run++) {
    await page.evaluate(() => {
      window.mdLongTasks = [];
      window.mdLongTaskObserver?.disconnect();
      window.mdLongTaskObserver = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.mdLongTasks.push(Math.round(e.duration));
      });
      window.mdLongTaskObserver.observe({ type: 'longtask' });
    });
    const r = await runSql(page, 'SELECT range AS i, range * 2 AS j, range % 7 AS k FROM range(2000000)');
    assert.equal(r.error, null);
    assert.match(await page.textContent(sel('status')), /2,000,000 rows/);
    runs.push(await page.evaluate(() => { window.mdLongTaskObserver.disconnect(); return window.mdLongTasks; }));
  }
  t.diagnostic(`main-thread long tasks per run (ms): ${runs.map((l) => `[${l.join(', ')}]`).join(' ')}`);
  assert.ok(runs.some((l) => l.every((ms) => ms <= 50)), `main-thread tasks over 50 ms in every run: ${JSON.stringify(runs)}`);
});

test('a dropped CSV joined with a remote table runs split across both sites, as the all-remote join does', async () => {
  let r = await runSql(page, 'CREATE OR REPLACE TABLE orders AS SELECT i AS id, i % 50 AS cust, i * 1.5 AS amount FROM range(5000) t(i)');
  assert.equal(r.error, null);
  const regions = ['north', 'south', 'east', 'west', 'centre'];
  const csv = ['id,name,region', ...Array.from({ length: 50 }, (_, i) => `${i},c${i},${regions[i % 5]}`)].join('\n');
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'customers.csv', { type: 'text/csv' }));
    document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, csv);
  await page.waitForFunction((s) => /added customers\.csv/.test(document.querySelector(s).textContent), sel('status'));
  const join = (customers) => `SELECT c.region, count(*) AS n, sum(o.amount) AS total, max(c.name) AS last
    FROM orders o JOIN ${customers} c ON o.cust = c.id WHERE c.region IN ('north', 'east') GROUP BY c.region ORDER BY c.region`;
  const split = await runSql(page, join("'customers.csv'"));
  assert.equal(split.error, null);
  assert.equal(split.site, 'hybrid');
  assert.match(split.status, /hybrid/);
  assert.match(split.status, /sent/);
  assert.equal(split.rows.length, 2);

  // The same customers on the server: the all-remote join must agree.
  r = await runSql(page, `CREATE OR REPLACE TABLE customers_r AS SELECT i AS id, 'c' || i AS name,
    ['north', 'south', 'east', 'west', 'centre'][i % 5 + 1] AS region FROM range(50) t(i)`);
  assert.equal(r.error, null);
  const remote = await runSql(page, join('customers_r'));
  assert.equal(remote.site, 'remote');
  assert.deepEqual(split.rows, remote.rows);

  // EXPLAIN shows the dual plan: sites, the bridge, its direction.
  const ex = await runSql(page, `EXPLAIN ${join("'customers.csv'")}`);
  assert.equal(ex.error, null);
  assert.deepEqual(ex.rows.map((row) => row[0]), ['dual_plan']); // DuckDB's EXPLAIN shape: key, plan text
  const plan = ex.rows[0][1];
  assert.match(plan, /\(R\) .*SCAN .*orders/);
  assert.match(plan, /\(L\) .*SCAN customers\.csv/);
  assert.match(plan, /BRIDGE __md_b\d+_0 L->R/);
  // a browser side with no rows after its filter still makes an (empty) table on the server
  const none = await runSql(page, join("'customers.csv'").replace("IN ('north', 'east')", "= 'nowhere'"));
  assert.equal(none.error, null);
  assert.equal(none.site, 'hybrid');
  assert.equal(none.rowCount, 0);
  const an = await runSql(page, `EXPLAIN ANALYZE ${join("'customers.csv'")}`);
  assert.equal(an.rows[0][0], 'analyzed_plan');
  assert.match(an.rows[0][1], /BRIDGE __md_b\d+_0 L->R: 20 rows, \d+ bytes/);
  assert.match(an.rows[0][1], /FINAL \(R\): [\d.]+ ms, its plan:\n[^]*HASH_JOIN/); // DuckDB's analyzed plan of the final step
});

test('cross-site writes move the rows once, in both directions', async () => {
  let r = await runSql(page, "CREATE TABLE my_db.main.from_csv AS SELECT id, name FROM 'customers.csv' WHERE id < 10");
  assert.equal(r.error, null);
  r = await runSql(page, 'SELECT count(*), sum(id) FROM from_csv');
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.rows, [['10', '45']]);
  r = await runSql(page, 'CREATE TABLE memory.main.big_orders AS SELECT * FROM orders WHERE amount > 7000');
  assert.equal(r.error, null);
  r = await runSql(page, 'SELECT count(*) FROM memory.main.big_orders');
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['333']]);
  r = await runSql(page, "INSERT INTO memory.main.big_orders SELECT * FROM orders WHERE id < 3");
  assert.equal(r.error, null);
  r = await runSql(page, 'SELECT count(*) FROM memory.main.big_orders');
  assert.deepEqual(r.rows, [['336']]);
});

test('a table named only by value (query_table) moves under its own name, in both directions', async () => {
  // server -> browser: the bridge is an md_cache table, and a temp view gives it the name the value says
  let r = await runSql(page, "CREATE TABLE memory.main.by_value AS SELECT count(*) AS n, sum(amount) AS s FROM query_table('orders') WHERE id < 100");
  assert.equal(r.error, null);
  r = await runSql(page, 'SELECT n, s FROM memory.main.by_value');
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['100', '7425.0']]);
  r = await runSql(page, "CREATE TABLE memory.main.by_value2 AS SELECT count(*) AS n FROM query_table('orders')"); // its view was dropped
  assert.equal(r.error, null);
  // browser -> server: uploaded as temp.main.big_orders for the final query to find
  r = await runSql(page, "CREATE TABLE my_db.main.by_value_up AS SELECT * FROM query_table('big_orders')");
  assert.equal(r.error, null);
  r = await runSql(page, 'SELECT count(*) FROM by_value_up');
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.rows, [['336']]);
  // nothing of either move is left under those names
  r = await runSql(page, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'big_orders'");
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.rows, [['0']]);
  r = await runSql(page, "SELECT count(*) FROM query_table('orders')");
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.rows, [['5000']]);
});

test('a session option runs at both sites, so split queries see it at both', async () => {
  let r = await runSql(page, "SET default_null_order = 'nulls_first'");
  assert.equal(r.error, null);
  assert.equal(r.site, 'remote');
  r = await runSql(page, "SELECT current_setting('default_null_order') AS o");
  assert.equal(r.site, 'remote');
  assert.deepEqual(r.rows, [['NULLS_FIRST']]);
  r = await runSql(page, "SELECT current_setting('default_null_order') AS o FROM local_t LIMIT 1");
  assert.equal(r.site, 'local');
  assert.deepEqual(r.rows, [['NULLS_FIRST']]);
  r = await runSql(page, 'SET threads = 1'); // not a session option on the server's list: not mirrored, refused there
  assert.equal(r.code, 'PERMISSION_DENIED');
  r = await runSql(page, 'RESET default_null_order');
  assert.equal(r.error, null);
  r = await runSql(page, "SELECT current_setting('default_null_order') AS o FROM local_t LIMIT 1");
  assert.deepEqual(r.rows, [['NULLS_LAST']]);
});

test('a statement that cannot combine both sites is refused with a clear message', async () => {
  let r = await runSql(page, 'CREATE TABLE remote_t AS SELECT 1 AS i');
  assert.equal(r.site, 'remote');
  const sql = 'UPDATE remote_t SET i = 2 FROM local_t WHERE remote_t.i = local_t.i';
  r = await runSql(page, sql);
  assert.equal(r.code, 'UNSUPPORTED');
  assert.match(r.error, /UPDATE cannot combine data in the browser with data on the server/);
  assert.match(r.error, /memory\.main\.local_t is in the browser and my_db\.main\.remote_t is on the server/);
});

test('the page reconnects after the server restarts', async () => {
  const port = srv.port;
  const dataDir = srv.dataDir;
  await srv.stop();
  await page.waitForFunction((s) => /reconnecting/.test(document.querySelector(s).textContent), sel('connection'));
  let r = await runSql(page, 'SELECT 1');
  assert.equal(r.code, 'DISCONNECTED');
  srv = await startServer({ dataDir, port });
  await page.waitForFunction((s) => document.querySelector(s).classList.contains('open'), sel('connection'),
    { timeout: 30000 });
  r = await runSql(page, 'SELECT count(*) AS n FROM remote_t');
  assert.equal(r.error, null);
  assert.equal(r.site, 'remote', 'the catalog was fetched again after the reconnect');
  assert.deepEqual(r.rows, [['1']]);
});

test('without cross-origin isolation the page falls back to the single-threaded duckdb-wasm build', async () => {
  // The same page, its document served without COOP/COEP (as a proxy might
  // strip them).  A document the browser context serves itself has no
  // address, so Chromium's local-network checks would block its WebSocket to
  // 127.0.0.1: this browser turns them off.
  const other = await launch({ args: ['--disable-features=LocalNetworkAccessChecks'] });
  try {
    const p = other.page;
    await p.route(`${srv.http}/`, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
    await openPage(p, srv.http, token);
    const info = await p.evaluate(() => ({ isolated: self.crossOriginIsolated, bundle: window.mdPage.runtime.bundle }));
    assert.deepEqual(info, { isolated: false, bundle: 'eh' });
    let r = await runSql(p, 'CREATE TABLE memory.main.e AS SELECT * FROM range(10) r(i)');
    assert.equal(r.site, 'local');
    r = await runSql(p, 'SELECT sum(i) AS s FROM e');
    assert.equal(r.error, null);
    assert.deepEqual(r.rows, [['45']]);
    r = await runSql(p, 'SELECT count(*) AS n FROM remote_t');
    assert.equal(r.site, 'remote');
    assert.deepEqual(r.rows, [['1']]);
  } finally {
    await other.close();
  }
});

test('no request left the origin; no uncaught page error; screenshot for review', async () => {
  await runSql(page, "SELECT i AS n, 'row ' || i AS label, i * 0.5 AS half FROM range(12) r(i)");
  await page.screenshot({ path: 'build/test-logs/page.png', fullPage: true });
  const origin = srv.http;
  const foreign = browser.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(pageErrors, []);
});
