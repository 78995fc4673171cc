// Black-box tests of read scaling and of the server's connection functions
// (server/pool.c replicas, server/storage/databases.c follow_heads,
// server/duckling/server_functions.c) against a real ./mdserver: a
// read_scaling token is served by read replicas that see a commit within
// 1 s, session_name pins a replica, writes are refused naming the token
// kind, a long write does not hold replica reads up, and
// md_user_info / md_active_server_connections / md_interrupt_server_connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createToken } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

let srv, rw, rs, other, boss;
const open = [];

before(async () => {
  srv = await startServer({ args: ['--read-replicas', '2'] });
  rw = createToken(srv.dataDir, 'reader');
  rs = createToken(srv.dataDir, 'reader', { kind: 'read-scaling' });
  other = createToken(srv.dataDir, 'someone');
  const { execFileSync } = await import('node:child_process');
  const { MDSERVER } = await import('../lib/server.mjs');
  execFileSync(MDSERVER, ['user', 'create', 'chief', '--role', 'admin', '--data-dir', srv.dataDir]);
  boss = createToken(srv.dataDir, 'chief');
});
after(async () => {
  for (const c of open) await c.close().catch(() => {});
  await srv?.stop({ removeData: true });
});

async function connect(token, hello = {}) {
  const c = await MdClient.connect(srv.url, token, hello);
  open.push(c);
  return c;
}

/** A client that says HELLO with a session_name. */
async function connectNamed(token, name) {
  const c = await MdClient.connect(srv.url, undefined);
  c.send(0x01, 0, { protocol: 1, token, client: 'node-test', session_name: name });
  const w = await c.next();
  assert.equal(w.name, 'WELCOME', JSON.stringify(w.json));
  open.push(c);
  return c;
}

const one = async (c, sql) => Object.values((await c.rows(sql))[0])[0];

test('read_scaling sessions run on replicas that follow commits within 1 s; writes are refused', async () => {
  const w = await connect(rw);
  await w.rows('CREATE TABLE my_db.facts AS SELECT range AS i FROM range(1000)');
  assert.equal(await one(w, 'SELECT md_duckling_id()'), 'reader_rw');
  const r = await connect(rs);
  assert.equal(r.welcome.token_kind, 'read_scaling');
  assert.match(await one(r, 'SELECT md_duckling_id()'), /^reader_rs\.[01]$/);
  assert.equal(Number(await one(r, 'SELECT count(*) FROM my_db.facts')), 1000);
  const lat = [];
  for (let k = 0; k < 5; k++) {
    await w.rows(`INSERT INTO my_db.facts VALUES (${10000 + k})`);
    const t0 = performance.now();
    while (Number(await one(r, 'SELECT count(*) FROM my_db.facts')) !== 1001 + k)
      assert.ok(performance.now() - t0 < 1000, 'a replica sees a commit within 1 s');
    lat.push(performance.now() - t0);
  }
  console.log(`read replica: commit visible after ${lat.map((x) => x.toFixed(1)).join(', ')} ms`);
  // a database created later is there too
  await w.rows('CREATE DATABASE later; CREATE TABLE later.x AS SELECT 7 AS seven');
  assert.equal(await one(r, 'SELECT seven FROM later.x'), 7);
  for (const sql of ['INSERT INTO my_db.facts VALUES (1)', 'CREATE TABLE my_db.nope (i INTEGER)',
    'CREATE DATABASE nope', "ATTACH 'md:later' AS again"]) {
    const e = (await r.query(sql)).error;
    assert.equal(e?.code, 'READ_ONLY', sql);
    assert.match(e.message, /read_scaling/, sql);
  }
});

test('session_name pins a replica; without one, sessions spread over the replicas', async () => {
  const ids = new Set();
  for (let k = 0; k < 3; k++) ids.add(await one(await connectNamed(rs, 'dashboard-7'), 'SELECT md_duckling_id()'));
  assert.equal(ids.size, 1, 'one session_name, one replica');
  const spread = new Set();
  const held = [];
  for (let k = 0; k < 4; k++) {
    const c = await connect(rs);
    held.push(c);
    spread.add(await one(c, 'SELECT md_duckling_id()'));
  }
  assert.deepEqual([...spread].sort(), ['reader_rs.0', 'reader_rs.1']);
  // the terminal client says it with --session-name
  const { spawnSync } = await import('node:child_process');
  const { MDSERVER } = await import('../lib/server.mjs');
  const viaCli = new Set([0, 1, 2].map(() => spawnSync(MDSERVER, ['client', '--url', srv.url, '--token', rs,
    '--session-name', 'dashboard-7', '--format', 'csv', '-c', 'SELECT md_duckling_id() AS d'], { encoding: 'utf8' })
    .stdout.trim().split('\n').at(-1)));
  assert.deepEqual([...viaCli], [...ids]);
  const bad = await MdClient.connect(srv.url, undefined);
  bad.send(0x01, 0, { protocol: 1, token: rs, session_name: 'x'.repeat(500) });
  assert.equal((await bad.next()).name, 'ERROR');
  await bad.close();
});

test('a long write on the read/write duckling does not hold replica reads up; interrupting it', async () => {
  const w = await connect(rw);
  const r = await connect(rs);
  await one(r, 'SELECT count(*) FROM my_db.facts'); // its replica is up
  const writer = w.query('CREATE TABLE my_db.huge AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(400000000)');
  let writerDone = false;
  writer.then(() => { writerDone = true; });
  // wait until the server lists the write as running
  const watcher = await connect(rw);
  let running;
  const t0 = performance.now();
  while (!(running = (await watcher.rows('FROM md_active_server_connections() WHERE client_query LIKE \'%range(400000000)%\' AND client_connection_id <> md_current_client_connection_id()'))[0])) {
    assert.ok(performance.now() - t0 < 5000);
  }
  assert.equal(running.client_connection_id, w.welcome.connection_id);
  assert.equal(running.user_name, 'reader');
  const reads = [];
  for (let k = 0; k < 10; k++) {
    const s = performance.now();
    assert.equal(Number(await one(r, 'SELECT count(*) FROM my_db.facts WHERE i % 7 = 0')) > 0, true);
    reads.push(performance.now() - s);
  }
  assert.equal(writerDone, false, 'the replica answered while the write still ran');
  console.log(`replica reads during a long write: median ${reads.sort((a, b) => a - b)[5].toFixed(1)} ms`);
  // another user may not interrupt it; its own user may
  const stranger = await connect(other);
  assert.equal(await one(stranger, `SELECT md_interrupt_server_connection('${w.welcome.connection_id}')`), false);
  assert.equal((await stranger.rows('FROM md_active_server_connections()')).every((c) => c.user_name === 'someone'), true);
  assert.equal(await one(watcher, `SELECT md_interrupt_server_connection('${w.welcome.connection_id}')`), true);
  const res = await writer;
  assert.equal(res.error?.code, 'CANCELLED');
  assert.equal(await one(watcher, `SELECT md_interrupt_server_connection('${w.welcome.connection_id}')`), false,
    'nothing runs now');
  assert.equal(Number(await one(w, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'huge'")), 0);
});

test('md_user_info; an administrator sees and interrupts every connection', async () => {
  const s = await connect(other);
  const [info] = await s.rows('FROM md_user_info()');
  assert.deepEqual([info.username, info.org_name, info.org_type, info.role], ['someone', 'default', 'self-hosted', 'member']);
  const chief = await connect(boss);
  const all = await chief.rows('SELECT DISTINCT user_name FROM md_active_server_connections() ORDER BY 1');
  assert.ok(all.map((x) => x.user_name).includes('reader') && all.map((x) => x.user_name).includes('someone'));
  assert.equal((await chief.rows('FROM md_user_info()'))[0].role, 'admin');
  const long = s.query('SELECT count(*) FROM range(100000000000) a');
  let id;
  const t0 = performance.now();
  while (!(id = (await chief.rows(`SELECT client_connection_id FROM md_active_server_connections() WHERE user_name = 'someone' AND client_query IS NOT NULL`))[0]?.client_connection_id))
    assert.ok(performance.now() - t0 < 5000);
  assert.equal(await one(chief, `SELECT md_interrupt_server_connection('${id}')`), true);
  assert.equal((await long).error?.code, 'CANCELLED');
});
