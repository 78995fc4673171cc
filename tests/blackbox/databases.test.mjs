// Black-box tests of the database SQL surface (server/storage/dbcommands.c)
// against a real ./mdserver: CREATE/ATTACH/USE/DETACH/DROP/UNDROP DATABASE,
// SHOW DATABASES, zero-copy clones, CREATE SNAPSHOT, time travel, readers
// that stay on their snapshot while the writer commits, and a second writer
// (another server on the same data directory) refused with DATABASE_LOCKED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startServer, createToken, MDSERVER } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

let srv, token;

before(async () => {
  srv = await startServer();
  token = createToken(srv.dataDir, 'dbuser');
});
after(async () => {
  await srv?.stop({ removeData: true });
});

/** Rows of a request's last result; throws with the server's code on error. */
async function rows(c, sql) {
  const r = await c.query(sql);
  if (r.error) {
    const e = new Error(`${sql}: ${r.error.message}`);
    e.code = r.error.code;
    throw e;
  }
  const t = r.results.at(-1)?.table;
  return t ? t.toArray().map((x) => x.toJSON()) : [];
}

/** The error of a request that must fail. */
async function failure(c, sql) {
  const r = await c.query(sql);
  assert.ok(r.error, `${sql} should fail`);
  return r.error;
}

function storeFiles(dataDir) {
  const root = `${dataDir}/store/objects`;
  let n = 0, bytes = 0;
  for (const d of readdirSync(root)) {
    for (const f of readdirSync(`${root}/${d}`)) {
      n++;
      bytes += statSync(`${root}/${d}/${f}`).size;
    }
  }
  return { n, bytes };
}

/**
 * Run a write and wait until it is in a snapshot: at once (RESULT_END names
 * it), or -- when another session's transaction made the commit wait -- by
 * the duckling's retry a moment later.
 */
async function committed(c, sql, db = 'my_db') {
  const before = (await rows(c, `SELECT max(snapshot_id) AS s FROM md_snapshots('${db}')`))[0].s ?? 0n;
  const r = await c.query(sql, { decode: false });
  if (r.error) throw new Error(`${sql}: ${r.error.message}`);
  if (r.results.at(-1).end.snapshot) return;
  for (let i = 0; i < 100; i++) {
    const now = (await rows(c, `SELECT max(snapshot_id) AS s FROM md_snapshots('${db}')`))[0].s ?? 0n;
    if (now > before) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${sql}: no snapshot after 5 s`);
}

const showDatabases = async (c) =>
  (await rows(c, 'SHOW DATABASES')).map((r) => `${r.database_name}/${r.alias}/${r.mode}`).sort();

test('create, attach, use, detach, drop and undrop databases; SHOW DATABASES tells their state', async () => {
  const c = await MdClient.connect(srv.url, token);
  assert.deepEqual(await showDatabases(c), ['my_db/my_db/read_write']);
  const [created] = await rows(c, 'CREATE DATABASE sales');
  assert.equal(created.status, 'created and attached');
  await rows(c, 'CREATE TABLE sales.orders AS SELECT range AS id, range * 10 AS amount FROM range(1000)');
  await rows(c, 'USE sales');
  assert.deepEqual(await rows(c, 'SELECT sum(amount)::BIGINT AS s FROM orders'), [{ s: 4995000n }]);
  await rows(c, 'USE my_db');
  assert.deepEqual(await showDatabases(c), ['my_db/my_db/read_write', 'sales/sales/read_write']);

  // IF NOT EXISTS / IF EXISTS, names, unknown databases
  assert.equal((await rows(c, 'CREATE DATABASE IF NOT EXISTS sales'))[0].status, 'already exists');
  assert.equal((await failure(c, 'CREATE DATABASE sales')).code, 'ALREADY_EXISTS');
  assert.equal((await failure(c, 'CREATE DATABASE "bad name!"')).code, 'INVALID_ARGUMENT');
  assert.equal((await failure(c, "ATTACH 'md:nowhere'")).code, 'NOT_FOUND');
  assert.equal((await rows(c, 'DROP DATABASE IF EXISTS nowhere'))[0].status, 'does not exist');
  const parse = await failure(c, 'SELECT 1; CREATE DATABASE; SELECT 2');
  assert.equal(parse.code, 'SQL_ERROR');
  assert.equal(parse.position, 'SELECT 1; CREATE DATABASE'.length);

  // detach and attach again under another name
  assert.equal((await rows(c, 'DETACH sales'))[0].status, 'detached');
  assert.deepEqual(await showDatabases(c), ['my_db/my_db/read_write', 'sales/null/not attached']);
  await rows(c, "ATTACH 'md:sales' AS s2");
  assert.deepEqual(await rows(c, 'SELECT count(*)::INTEGER AS n FROM s2.orders'), [{ n: 1000 }]);
  assert.equal((await rows(c, "ATTACH IF NOT EXISTS 'md:sales' AS s2"))[0].status, 'already attached');
  assert.equal((await failure(c, "ATTACH 'md:sales' AS s3")).code, 'ALREADY_EXISTS');
  await rows(c, 'DETACH s2');
  assert.match((await rows(c, "ATTACH 'md:'"))[0].status, /attached 1 more database/);

  // drop: gone from SHOW DATABASES and the catalog; SHOW ALL still lists it
  await rows(c, 'DROP DATABASE sales');
  assert.deepEqual(await showDatabases(c), ['my_db/my_db/read_write']);
  assert.ok((await rows(c, 'SHOW ALL DATABASES')).some((r) => r.database_name === 'sales' && r.mode === 'dropped'));
  assert.equal((await failure(c, 'SELECT count(*) FROM sales.orders')).code, 'SQL_ERROR');
  // undrop: back, with its data (rebuilt from the store)
  assert.equal((await rows(c, 'UNDROP DATABASE sales'))[0].status, 'undropped and attached');
  assert.deepEqual(await rows(c, 'SELECT count(*)::INTEGER AS n FROM sales.orders'), [{ n: 1000 }]);
  assert.equal((await failure(c, 'UNDROP DATABASE sales')).code, 'ALREADY_EXISTS');

  // retention
  await rows(c, 'ALTER DATABASE sales SET SNAPSHOT_RETENTION_DAYS = 30');
  const sales = (await rows(c, 'SHOW DATABASES')).find((r) => r.database_name === 'sales');
  assert.equal(sales.retention_days, 30);
  await c.close();
});

test('a clone costs no block copies, and clone and original then diverge', async () => {
  const c = await MdClient.connect(srv.url, token);
  await rows(c, 'CREATE DATABASE orig');
  await rows(c, "CREATE TABLE orig.t AS SELECT range AS x, md5(range::VARCHAR) AS h FROM range(200000)");
  const before = storeFiles(srv.dataDir);
  const t0 = performance.now();
  const [cl] = await rows(c, 'CREATE DATABASE copy1 FROM orig');
  const ms = performance.now() - t0;
  assert.match(cl.status, /zero-copy clone of orig/);
  assert.deepEqual(storeFiles(srv.dataDir), before, 'the clone stored no blocks');
  assert.ok(ms < 2000, `clone took ${ms} ms`);

  await rows(c, "ATTACH 'md:copy1'");
  await rows(c, 'INSERT INTO copy1.t VALUES (-1, \'clone only\')');
  await rows(c, 'DELETE FROM orig.t WHERE x < 100');
  assert.deepEqual(await rows(c, 'SELECT count(*)::INTEGER AS n, min(x)::INTEGER AS lo FROM copy1.t'), [{ n: 200001, lo: -1 }]);
  assert.deepEqual(await rows(c, 'SELECT count(*)::INTEGER AS n, min(x)::INTEGER AS lo FROM orig.t'), [{ n: 199900, lo: 100 }]);

  // a clone of an older snapshot
  const snaps = await rows(c, "SELECT snapshot_id FROM md_snapshots('orig') ORDER BY snapshot_id");
  const first = snaps.find(() => true).snapshot_id;
  await rows(c, `CREATE DATABASE copy0 FROM orig (SNAPSHOT ${first})`);
  await rows(c, "ATTACH 'md:copy0'");
  assert.deepEqual(await rows(c, "SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = 'copy0'"), [{ n: 0 }]);
  assert.equal((await failure(c, 'CREATE DATABASE copy9 FROM orig (SNAPSHOT 999999)')).code, 'NOT_FOUND');
  await c.close();
});

test('time travel to every snapshot of a 20-commit history returns exactly the data of that moment', async () => {
  const c = await MdClient.connect(srv.url, token);
  await rows(c, 'CREATE DATABASE hist');
  await rows(c, 'CREATE TABLE hist.h (i INTEGER, note VARCHAR)');
  const history = []; // [snapshot id, rows after that commit]
  const state = [];
  for (let i = 0; i < 20; i++) {
    // inserts, updates and deletes, so that every moment differs
    let sql;
    if (i % 5 === 4) {
      sql = `DELETE FROM hist.h WHERE i = ${i - 2}`;
      state.splice(state.findIndex((r) => r.i === i - 2), 1);
    } else if (i % 5 === 3) {
      sql = `UPDATE hist.h SET note = 'changed at ${i}' WHERE i = ${i - 1}`;
      state.find((r) => r.i === i - 1).note = `changed at ${i}`;
    } else {
      sql = `INSERT INTO hist.h VALUES (${i}, 'row ${i}')`;
      state.push({ i, note: `row ${i}` });
    }
    const r = await c.query(sql, { decode: false });
    assert.equal(r.error, null, sql);
    const id = r.results.at(-1).end.snapshot;
    assert.ok(id > 0, `commit ${i} made a snapshot`);
    history.push([id, state.map((x) => ({ ...x })).sort((a, b) => a.i - b.i)]);
  }
  for (const [id, expected] of history) {
    await rows(c, `ATTACH 'md:hist' AS past (SNAPSHOT ${id})`);
    assert.deepEqual(await rows(c, 'SELECT i, note FROM past.h ORDER BY i'), expected, `snapshot ${id}`);
    await rows(c, 'DETACH past');
  }
  // one snapshot under two names at once (DuckDB attaches a file once: the cache gives it a second name)
  const [mid0] = history[5];
  await rows(c, `ATTACH 'md:hist' AS p1 (SNAPSHOT ${mid0}); ATTACH 'md:hist' AS p2 (SNAPSHOT ${mid0})`);
  assert.deepEqual(await rows(c, 'SELECT (SELECT count(*) FROM p1.h) = (SELECT count(*) FROM p2.h) AS same'), [{ same: true }]);
  await rows(c, 'DETACH p1; DETACH p2');
  // by time: the snapshot's own created_at, and a moment before the first
  const listed = await rows(c, "SELECT snapshot_id, strftime(created_at, '%Y-%m-%d %H:%M:%S.%f') AS t FROM md_snapshots('hist')");
  const mid = listed.find((r) => r.snapshot_id === BigInt(history[9][0]));
  await rows(c, `ATTACH 'md:hist' AS at_mid (SNAPSHOT_TIME '${mid.t}')`);
  assert.deepEqual(await rows(c, 'SELECT i, note FROM at_mid.h ORDER BY i'), history[9][1]);
  const e = await failure(c, 'INSERT INTO at_mid.h VALUES (99, \'no\')');
  assert.equal(e.code, 'READ_ONLY');
  assert.match(e.message, /snapshot \d+ of database hist, attached read-only/);
  await rows(c, 'DETACH at_mid');
  assert.equal((await failure(c, "ATTACH 'md:hist' AS x (SNAPSHOT_TIME '2000-01-01')")).code, 'NOT_FOUND');
  assert.equal((await failure(c, "ATTACH 'md:hist' AS x (SNAPSHOT_TIME 'yesterday-ish')")).code, 'INVALID_ARGUMENT');

  // named snapshots
  const [named] = await rows(c, 'CREATE SNAPSHOT before_cleanup OF hist');
  await rows(c, 'DELETE FROM hist.h');
  const list = await rows(c, "SELECT snapshot_id, name FROM md_snapshots('hist') WHERE name IS NOT NULL");
  assert.deepEqual(list, [{ snapshot_id: named.snapshot_id, name: 'before_cleanup' }]);
  assert.equal((await failure(c, 'CREATE SNAPSHOT before_cleanup OF hist')).code, 'ALREADY_EXISTS');
  await rows(c, `ATTACH 'md:hist' AS kept (SNAPSHOT ${named.snapshot_id})`);
  assert.deepEqual(await rows(c, 'SELECT count(*)::INTEGER AS n FROM kept.h'), [{ n: history.at(-1)[1].length }]);
  assert.deepEqual(await rows(c, 'SELECT count(*)::INTEGER AS n FROM hist.h'), [{ n: 0 }]);
  await rows(c, 'DETACH kept');
  await c.close();
});

test('a reader keeps a consistent snapshot while the writer commits, and REFRESH moves it forward', async () => {
  const w = await MdClient.connect(srv.url, token);
  const r = await MdClient.connect(srv.url, token);
  await rows(w, 'CREATE DATABASE live');
  await rows(w, 'CREATE TABLE live.acct (id INTEGER, balance BIGINT)');
  await rows(w, 'INSERT INTO live.acct SELECT range, 100 FROM range(1000)');
  await rows(r, "ATTACH 'md:live' AS reader (READ_ONLY)");
  const look = 'SELECT count(*)::INTEGER AS n, sum(balance)::BIGINT AS total FROM reader.acct';
  const first = await rows(r, look);
  assert.deepEqual(first, [{ n: 1000, total: 100000n }]);
  // the writer commits transfers (total unchanged) and inserts (total grows)
  // while the reader reads: every read sees exactly the snapshot it attached
  const writes = (async () => {
    for (let i = 0; i < 20; i++) {
      await rows(w, `BEGIN; UPDATE live.acct SET balance = balance - 7 WHERE id = ${i}; UPDATE live.acct SET balance = balance + 7 WHERE id = ${i + 500}; COMMIT`);
      await rows(w, `INSERT INTO live.acct VALUES (${1000 + i}, 1)`);
    }
  })();
  let reads = 0;
  let done = false;
  writes.then(() => { done = true; });
  while (!done || reads < 5) {
    assert.deepEqual(await rows(r, look), first);
    reads++;
  }
  await writes;
  assert.deepEqual(await rows(w, 'SELECT count(*)::INTEGER AS n, sum(balance)::BIGINT AS total FROM live.acct'), [{ n: 1020, total: 100020n }]);
  assert.match((await rows(r, 'REFRESH DATABASE reader'))[0].status, /1 reader moved/);
  assert.deepEqual(await rows(r, look), [{ n: 1020, total: 100020n }]);
  assert.equal((await failure(r, 'INSERT INTO reader.acct VALUES (0, 0)')).code, 'READ_ONLY');
  assert.equal((await failure(r, 'REFRESH DATABASE live')).code, 'INVALID_ARGUMENT');
  await w.close();
  await r.close();
});

test('a second writer (another server on the same data) is refused with DATABASE_LOCKED and reads snapshots meanwhile', async () => {
  const c1 = await MdClient.connect(srv.url, token);
  await committed(c1, 'CREATE TABLE my_db.shared AS SELECT 1 AS v');
  const other = await startServer({ dataDir: srv.dataDir });
  try {
    const c2 = await MdClient.connect(other.url, token);
    assert.deepEqual(await rows(c2, 'SELECT sum(v)::INTEGER AS s FROM my_db.shared'), [{ s: 1 }]);
    const e = await failure(c2, 'INSERT INTO my_db.shared VALUES (2)');
    assert.equal(e.code, 'DATABASE_LOCKED');
    assert.match(e.message, /being written by another process/);
    assert.ok((await rows(c2, 'SHOW DATABASES')).every((r) => r.mode === 'locked' || r.mode === 'file'));
    // the writer goes on; the reader moves forward only when it asks
    await committed(c1, 'INSERT INTO my_db.shared VALUES (10)');
    assert.deepEqual(await rows(c2, 'SELECT sum(v)::INTEGER AS s FROM my_db.shared'), [{ s: 1 }]);
    await rows(c2, 'REFRESH DATABASE my_db');
    assert.deepEqual(await rows(c2, 'SELECT sum(v)::INTEGER AS s FROM my_db.shared'), [{ s: 11 }]);
    // once the first server is gone, REFRESH makes the second one the writer
    await c1.close();
    const { port } = srv;
    await srv.stop();
    await rows(c2, 'REFRESH DATABASE my_db');
    await rows(c2, 'INSERT INTO my_db.shared VALUES (100)');
    assert.deepEqual(await rows(c2, 'SELECT sum(v)::INTEGER AS s FROM my_db.shared'), [{ s: 111 }]);
    await c2.close();
    await other.stop();
    srv = await startServer({ dataDir: other.dataDir, port });
    const c3 = await MdClient.connect(srv.url, token);
    assert.deepEqual(await rows(c3, 'SELECT sum(v)::INTEGER AS s FROM my_db.shared'), [{ s: 111 }]);
    await c3.close();
  } finally {
    await other.stop();
  }
});

test('DROP, DETACH and CREATE SNAPSHOT wait for changes an open transaction holds back; names DuckDB keeps are refused', async () => {
  const a = await MdClient.connect(srv.url, token);
  const b = await MdClient.connect(srv.url, token);
  await rows(a, 'CREATE DATABASE guarded');
  await rows(a, 'CREATE TABLE guarded.t AS SELECT 1 AS v');
  // b's open write transaction makes the snapshot of a's next insert wait (the change is in DuckDB's WAL)
  await rows(b, 'BEGIN; INSERT INTO guarded.t VALUES (100)');
  await rows(a, 'INSERT INTO guarded.t VALUES (2)');
  for (const sql of ['DROP DATABASE guarded', 'DETACH guarded', 'CREATE SNAPSHOT OF guarded', 'CREATE DATABASE g2 FROM guarded']) {
    const e = await failure(a, sql);
    assert.equal(e.code, 'DATABASE_LOCKED', sql);
    assert.match(e.message, /open transaction/);
  }
  await rows(b, 'ROLLBACK');
  await rows(a, 'DROP DATABASE guarded');
  await rows(a, 'UNDROP DATABASE guarded');
  assert.deepEqual(await rows(a, 'SELECT sum(v)::INTEGER AS s FROM guarded.t'), [{ s: 3 }], 'the held-back insert survived the drop');

  for (const name of ['memory', 'system', 'temp', 'main']) {
    assert.equal((await failure(a, `CREATE DATABASE ${name}`)).code, 'INVALID_ARGUMENT', name);
  }
  assert.equal((await failure(a, "ATTACH 'md:guarded' AS memory")).code, 'INVALID_ARGUMENT');
  // a file must not replace an md: attachment behind the server's back
  const e = await failure(a, "ATTACH OR REPLACE '/home/dbuser/other.duckdb' AS guarded");
  assert.equal(e.code, 'UNSUPPORTED');
  assert.equal((await failure(a, 'ALTER DATABASE guarded RENAME TO g3')).code, 'UNSUPPORTED');
  assert.equal((await failure(a, 'ALTER DATABASE IF EXISTS guarded RENAME TO g3')).code, 'UNSUPPORTED');
  assert.deepEqual(await rows(a, 'SELECT sum(v)::INTEGER AS s FROM guarded.t'), [{ s: 3 }]);
  await a.close();
  await b.close();
});

test('a read-only token may list databases but not change them; fsck stays clean', async () => {
  const ro = createToken(srv.dataDir, 'dbuser', { readOnly: true });
  const c = await MdClient.connect(srv.url, ro);
  assert.ok((await rows(c, 'SHOW DATABASES')).length >= 1);
  for (const sql of ['CREATE DATABASE nope', 'DROP DATABASE hist', 'CREATE SNAPSHOT OF hist', "ATTACH 'md:hist' AS h2 (SNAPSHOT 1)"]) {
    assert.equal((await failure(c, sql)).code, 'READ_ONLY', sql);
  }
  await c.close();
  const r = spawnSync(MDSERVER, ['fsck', '--data-dir', srv.dataDir], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a session whose current database another session dropped ends cleanly: the duckling and its sessions stay', async () => {
  const a = await MdClient.connect(srv.url, token);
  const b = await MdClient.connect(srv.url, token);
  await rows(a, 'CREATE DATABASE doomed; USE doomed; CREATE TABLE t AS SELECT 1 AS x');
  await rows(b, 'CREATE TEMP TABLE keep AS SELECT 42 AS v');
  const ducklings = srv.children().sort().join();
  await rows(b, 'DROP DATABASE doomed');
  await a.close(); // its pooled connection still says USE doomed
  // b's session lives on in the same duckling (before the fix, the duckling exited as
  // it put a's connection back): watched for a second, as the release comes a moment later
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    assert.deepEqual(await rows(b, 'SELECT v FROM keep'), [{ v: 42 }]);
    assert.equal(srv.children().sort().join(), ducklings);
  }
  assert.doesNotMatch(srv.stderr, /cannot clean a closed session/);
  await b.close();
});
