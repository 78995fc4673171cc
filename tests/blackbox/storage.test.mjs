// Black-box tests of snapshot storage under my_db (server/storage): every
// acknowledged write is in a committed snapshot (RESULT_END says which), the
// store holds only changed blocks, a lost working file is rebuilt from the
// store, and writes survive kill -9 of the duckling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { startServer, createToken, MDSERVER } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

let srv, token;

before(async () => {
  srv = await startServer();
  token = createToken(srv.dataDir, 'snapuser');
});
after(async () => {
  await srv?.stop({ removeData: true });
});

/** Run SQL; returns the snapshot id of each statement's RESULT_END (null: none). */
async function snapshots(c, sql) {
  const r = await c.query(sql, { decode: false });
  if (r.error) throw new Error(`${sql}: ${r.error.message}`);
  return r.results.map((x) => x.end.snapshot ?? null);
}

function storeBytes(dataDir) {
  let n = 0;
  const root = `${dataDir}/store/objects`;
  for (const d of readdirSync(root)) for (const f of readdirSync(`${root}/${d}`)) n += statSync(`${root}/${d}/${f}`).size;
  return n;
}

test('each committed write becomes a snapshot before it is acknowledged (listed by md_snapshots); reads and open transactions make none', async () => {
  const c = await MdClient.connect(srv.url, token);
  const [created] = await snapshots(c, 'CREATE TABLE t AS SELECT i, i * 2 AS j FROM range(200000) r(i)');
  assert.ok(created > 0, 'CREATE TABLE made a snapshot');
  assert.deepEqual(await snapshots(c, 'SELECT count(*) FROM t'), [null]);
  const [a] = await snapshots(c, 'INSERT INTO t VALUES (-1, -2)');
  const [b] = await snapshots(c, 'INSERT INTO t VALUES (-3, -6)');
  assert.ok(a > created && b > a, `increasing ids: ${created} ${a} ${b}`);
  const txn = await snapshots(c, 'BEGIN; INSERT INTO t VALUES (-5, -10); UPDATE t SET j = 0 WHERE i = -1; COMMIT');
  assert.deepEqual(txn.slice(0, 3), [null, null, null], 'nothing is snapshotted inside the transaction');
  assert.ok(txn[3] > b, 'COMMIT is');

  // md_snapshots() lists them, oldest first, with their time and size
  const rows = await c.rows("SELECT snapshot_id, name, created_at, bytes_added, typeof(created_at) AS ty FROM md_snapshots('my_db')");
  const ids = rows.map((r) => Number(r.snapshot_id));
  for (const id of [created, a, b, txn[3]]) assert.ok(ids.includes(id), `snapshot ${id} is listed`);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i].created_at >= rows[i - 1].created_at);
  assert.ok(rows.every((r) => r.ty === 'TIMESTAMP' && r.name === null && r.bytes_added > 0n));
  const bad = await c.query("FROM md_snapshots('no_such_db')");
  assert.match(bad.error?.message ?? '', /no database named no_such_db/);
  await c.close();
});

test('a one-row insert stores a few blocks, not the database again', async () => {
  const c = await MdClient.connect(srv.url, token);
  await snapshots(c, 'CREATE TABLE big AS SELECT i, md5(i::VARCHAR) AS h FROM range(1000000) r(i)');
  const before = storeBytes(srv.dataDir);
  const [s] = await snapshots(c, "INSERT INTO big VALUES (-1, 'x')");
  assert.ok(s > 0);
  const added = storeBytes(srv.dataDir) - before;
  assert.ok(added > 0 && added <= 2 * 1024 * 1024, `${added} bytes stored for one row`);
  await c.close();
});

test('a duckling killed with SIGKILL after an acknowledged write loses nothing', async () => {
  let c = await MdClient.connect(srv.url, token);
  await snapshots(c, 'CREATE TABLE k AS SELECT 1 AS v');
  await snapshots(c, 'INSERT INTO k VALUES (2)');
  const pids = srv.children();
  assert.ok(pids.length > 0);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  // the next query needs a new duckling, which takes over the dead one's lease
  const r = await c.query('SELECT sum(v)::INTEGER AS s FROM k');
  assert.equal(r.error?.code ?? 'DUCKLING_FAILED', 'DUCKLING_FAILED');
  await c.close();
  c = await MdClient.connect(srv.url, token);
  assert.deepEqual(await c.rows('SELECT sum(v)::INTEGER AS s FROM k'), [{ s: 3 }]);
  await c.close();
});

test('a lost working file is rebuilt from the snapshot store', async () => {
  let c = await MdClient.connect(srv.url, token);
  await snapshots(c, "CREATE TABLE keep AS SELECT 'kept' AS what, 42 AS n");
  await c.close();
  const { dataDir, port } = srv;
  await srv.stop();
  rmSync(`${dataDir}/users/snapuser/databases/my_db.duckdb`);
  rmSync(`${dataDir}/users/snapuser/databases/my_db.duckdb.wal`, { force: true });
  srv = await startServer({ dataDir, port });
  c = await MdClient.connect(srv.url, token);
  assert.deepEqual(await c.rows('SELECT what, n FROM keep'), [{ what: 'kept', n: 42 }]);
  assert.deepEqual(await c.rows('SELECT count(*)::INTEGER AS n FROM k'), [{ n: 2 }]);
  await c.close();
});

function mdserver(...args) {
  const r = spawnSync(MDSERVER, args, { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('fsck verifies every snapshot and names a damaged block; gc frees only unreferenced objects', async () => {
  let r = mdserver('fsck', '--data-dir', srv.dataDir);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /checked \d+ manifests and \d+ blocks .*: 0 problems/);

  // an orphan, as an interrupted commit leaves: gc removes it, and nothing else
  const orphan = Buffer.from('bytes no snapshot references');
  const hex = createHash('sha256').update(orphan).digest('hex');
  mkdirSync(`${srv.dataDir}/store/objects/${hex.slice(0, 2)}`, { recursive: true });
  writeFileSync(`${srv.dataDir}/store/objects/${hex.slice(0, 2)}/${hex.slice(2)}`, orphan);
  r = mdserver('gc', '--data-dir', srv.dataDir, '--dry-run', '--min-age', '0');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /would free 1 objects/);
  r = mdserver('gc', '--data-dir', srv.dataDir, '--min-age', '0');
  assert.match(r.out, /freed 1 objects/);
  r = mdserver('fsck', '--data-dir', srv.dataDir);
  assert.equal(r.status, 0, r.out);

  // damage one stored block: fsck reports it and exits 1
  const root = `${srv.dataDir}/store/objects`;
  let victim = null;
  for (const d of readdirSync(root)) {
    for (const f of readdirSync(`${root}/${d}`)) {
      // a full block: its 256 KiB behind the 32-byte block space (server/storage/manifest.h)
      if (statSync(`${root}/${d}/${f}`).size === 32 + 262144) victim = `${root}/${d}/${f}`;
    }
  }
  assert.ok(victim, 'a full block exists');
  const bytes = readFileSync(victim);
  bytes[1000] ^= 0xff;
  writeFileSync(victim, bytes);
  r = mdserver('fsck', '--data-dir', srv.dataDir);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /damaged/);
  assert.match(r.out, /[1-9]\d* problems?/);
  bytes[1000] ^= 0xff; // put it back for the tests after this one
  writeFileSync(victim, bytes);
});
