// Black-box tests of sharing (server/storage/sharecommands.c, the share
// rules of server/storage/store_service.c) against a real ./mdserver with
// three users: alice and bob in the default organization, carol in acme.
// CREATE / UPDATE / DROP SHARE, GRANT / REVOKE, LIST SHARES, SHOW GRANTS,
// ATTACH of a share URL, MANUAL and AUTOMATIC shares, revocation at the
// reader's next statement, a restart in between, and clones usable by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createToken } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

let srv;
const tokens = {};
const open = [];

before(async () => {
  srv = await startServer();
  tokens.alice = createToken(srv.dataDir, 'alice');
  tokens.bob = createToken(srv.dataDir, 'bob');
  tokens.carol = createToken(srv.dataDir, 'carol', { org: 'acme' });
});
after(async () => {
  for (const c of open) await c.close().catch(() => {});
  await srv?.stop({ removeData: true });
});

async function connect(user) {
  const c = await MdClient.connect(srv.url, tokens[user]);
  open.push(c);
  return c;
}

async function failure(c, sql) {
  const r = await c.query(sql);
  assert.ok(r.error, `${sql} should fail`);
  return r.error;
}

const URL_RE = /^md:_share\/([a-z_0-9]+)\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function shareUrl(c, sql) {
  const [{ share_url: url }] = await c.rows(sql);
  assert.match(url, URL_RE);
  return url;
}

const count = async (c, table) => Number((await c.rows(`SELECT count(*) AS n FROM ${table}`))[0].n);

test('CREATE SHARE: defaults, names, IF NOT EXISTS, the rules of access and visibility', async () => {
  const a = await connect('alice');
  await a.rows('CREATE DATABASE sales; CREATE TABLE sales.orders AS SELECT range AS id FROM range(10)');
  const url = await shareUrl(a, 'CREATE SHARE FROM sales');
  assert.equal(URL_RE.exec(url)[1], 'sales');
  let list = await a.rows('LIST SHARES');
  assert.deepEqual(list.map((r) => [r.name, r.url, r.source_db_name, r.access, r.visibility, r.update]),
    [['sales', url, 'sales', 'ORGANIZATION', 'DISCOVERABLE', 'MANUAL']]);
  // again: an error, unless IF NOT EXISTS, which answers the same URL
  assert.equal((await failure(a, 'CREATE SHARE sales FROM sales')).code, 'ALREADY_EXISTS');
  assert.equal(await shareUrl(a, 'CREATE SHARE IF NOT EXISTS sales FROM sales'), url);
  // without FROM: the current database
  await a.rows('USE sales');
  const cur = await shareUrl(a, 'CREATE SHARE cur (ACCESS UNRESTRICTED)');
  assert.equal(URL_RE.exec(cur)[1], 'sales');
  list = await a.rows('LIST SHARES');
  const curRow = list.find((r) => r.name === 'cur');
  assert.equal(curRow.visibility, 'HIDDEN', 'UNRESTRICTED shares are hidden by default');
  await a.rows('USE my_db');
  assert.equal((await failure(a, 'CREATE SHARE x FROM sales (ACCESS UNRESTRICTED, VISIBILITY DISCOVERABLE)')).code,
    'INVALID_ARGUMENT');
  assert.equal((await failure(a, 'CREATE SHARE x FROM nowhere')).code, 'NOT_FOUND');
  assert.equal((await failure(a, 'CREATE SHARE x FROM sales (ACCESS EVERYONE)')).code, 'SQL_ERROR');
  assert.equal((await failure(a, 'CREATE SHARE x FROM sales (UPDATE MANUAL, UPDATE AUTOMATIC)')).code, 'SQL_ERROR');
  assert.equal((await failure(a, 'GRANT READ ON SHARE nosuch TO bob')).code, 'NOT_FOUND');
  assert.equal((await failure(a, 'GRANT READ ON SHARE sales TO nobody_here')).code, 'INVALID_ARGUMENT');
  assert.equal((await failure(a, 'DROP SHARE nosuch')).code, 'NOT_FOUND');
  await a.rows('DROP SHARE IF EXISTS nosuch; DROP SHARE cur');
  assert.deepEqual((await a.rows('LIST SHARES')).map((r) => r.name), ['sales']);
  // a table named share is still DuckDB's: UPDATE share SET ... is not ours
  await a.rows('CREATE TABLE share (v INTEGER); INSERT INTO share VALUES (1); UPDATE share SET v = 2');
  assert.deepEqual(await a.rows('SELECT v FROM share'), [{ v: 2 }]);
});

test('ORGANIZATION and UNRESTRICTED: who may attach with the URL; shares are read-only and copy nothing', async () => {
  const a = await connect('alice');
  const b = await connect('bob');
  const c = await connect('carol');
  await a.rows('CREATE DATABASE orgdb; CREATE TABLE orgdb.t AS SELECT 1 AS v');
  const orgUrl = await shareUrl(a, 'CREATE SHARE orgshare FROM orgdb');
  const pubUrl = await shareUrl(a, 'CREATE SHARE pubshare FROM orgdb (ACCESS UNRESTRICTED)');
  // bob (same organization) attaches under the database's name by default
  const att = await b.rows(`ATTACH '${orgUrl}'`);
  assert.equal(att[0].database_name, 'orgdb');
  assert.deepEqual(await b.rows('SELECT v FROM orgdb.t'), [{ v: 1 }]);
  const dbs = await b.rows('SHOW DATABASES');
  assert.deepEqual(dbs.filter((r) => r.alias === 'orgdb').map((r) => r.mode), ['share']);
  // carol (another organization) may not, but the unrestricted URL works for her
  const refused = await failure(c, `ATTACH '${orgUrl}'`);
  assert.equal(refused.code, 'PERMISSION_DENIED');
  assert.match(refused.message, /not shared with you/);
  await c.rows(`ATTACH '${pubUrl}' AS from_alice`);
  assert.deepEqual(await c.rows('SELECT v FROM from_alice.t'), [{ v: 1 }]);
  // a wrong id finds nothing; an alias that is one of the reader's databases is refused
  const wrong = orgUrl.replace(/[0-9a-f]{12}$/, '000000000000');
  assert.equal((await failure(b, `ATTACH '${wrong}' AS w`)).code, 'NOT_FOUND');
  assert.equal((await failure(b, `ATTACH '${orgUrl}' AS my_db`)).code, 'ALREADY_EXISTS');
  assert.equal((await failure(b, "ATTACH 'md:_share/orgdb' AS w")).code, 'SQL_ERROR');
  // no write reaches the owner's database through a share
  for (const sql of ['INSERT INTO orgdb.t VALUES (2)', 'CREATE TABLE orgdb.x (i INTEGER)', 'DROP TABLE orgdb.t']) {
    const e = await failure(b, sql);
    assert.match(e.message, /read-only|read only/i, sql);
  }
  assert.deepEqual(await a.rows('SELECT v FROM orgdb.t'), [{ v: 1 }]);
});

test('MANUAL shares stay at their snapshot until UPDATE SHARE; AUTOMATIC ones follow every commit', async () => {
  const a = await connect('alice');
  const b = await connect('bob');
  await a.rows('CREATE DATABASE live; CREATE TABLE live.t AS SELECT range AS i FROM range(5)');
  const manual = await shareUrl(a, 'CREATE SHARE live_manual FROM live (UPDATE MANUAL)');
  const auto = await shareUrl(a, 'CREATE SHARE live_auto FROM live (UPDATE AUTOMATIC)');
  await b.rows(`ATTACH '${manual}' AS m; ATTACH '${auto}' AS au`);
  assert.equal(await count(b, 'm.t'), 5);
  assert.equal(await count(b, 'au.t'), 5);
  await a.rows('INSERT INTO live.t VALUES (5), (6)');
  assert.equal(await count(b, 'm.t'), 5, 'a MANUAL share does not move by itself');
  assert.equal(await count(b, 'au.t'), 7, 'an AUTOMATIC share shows the commit at the next statement');
  await a.rows('UPDATE SHARE live_manual');
  assert.equal(await count(b, 'm.t'), 7, 'UPDATE SHARE reaches the reader at its next statement');
  // measured: commit to visible at a reader, several times
  const lat = [];
  for (let k = 0; k < 5; k++) {
    await a.rows(`INSERT INTO live.t VALUES (${100 + k})`);
    const t0 = performance.now();
    while (await count(b, 'au.t') !== 8 + k) {
      assert.ok(performance.now() - t0 < 1000, 'an AUTOMATIC share shows a commit within 1 s');
    }
    lat.push(performance.now() - t0);
  }
  console.log(`automatic share: commit visible at the reader after ${lat.map((x) => x.toFixed(1)).join(', ')} ms`);
  assert.ok(Math.max(...lat) < 1000);
});

test('RESTRICTED shares: GRANT, SHOW GRANTS, REVOKE at the next statement; DROP and OR REPLACE', async () => {
  const a = await connect('alice');
  const b = await connect('bob');
  const c = await connect('carol');
  await a.rows('CREATE DATABASE secret_db; CREATE TABLE secret_db.t AS SELECT 42 AS answer');
  const url = await shareUrl(a, 'CREATE SHARE restricted FROM secret_db (ACCESS RESTRICTED)');
  assert.equal((await failure(b, `ATTACH '${url}' AS r`)).code, 'PERMISSION_DENIED');
  const granted = await a.rows('GRANT READ ON SHARE restricted TO bob, carol');
  assert.deepEqual(granted.map((r) => [r.grantee, r.status]), [['bob', 'granted READ'], ['carol', 'granted READ']]);
  const grants = await a.rows('SHOW GRANTS ON SHARE restricted');
  assert.deepEqual(grants.map((r) => [r.share_owner, r.grantee_name, r.grantee_type, r.privilege]),
    [['alice', 'bob', 'user', 'read'], ['alice', 'carol', 'user', 'read']]);
  await b.rows(`ATTACH '${url}' AS r`);
  await c.rows(`ATTACH '${url}' AS r`);
  assert.deepEqual(await b.rows('SELECT answer FROM r.t'), [{ answer: 42 }]);
  // revoked: bob's very next statement that names it says so; carol keeps reading
  await a.rows('REVOKE READ ON SHARE restricted FROM bob');
  const e = await failure(b, 'SELECT answer FROM r.t');
  assert.equal(e.code, 'PERMISSION_DENIED');
  assert.match(e.message, /revoked/);
  assert.deepEqual(await b.rows('SELECT 1 AS one'), [{ one: 1 }], 'statements that do not name it run');
  assert.deepEqual(await c.rows('SELECT answer FROM r.t'), [{ answer: 42 }]);
  assert.deepEqual((await a.rows('REVOKE READ ON SHARE restricted FROM bob'))[0].status, 'had no READ to revoke');
  await b.rows('DETACH r');
  // replaced: the old URL stops working at carol's next statement, the new one works
  const url2 = await shareUrl(a, 'CREATE OR REPLACE SHARE restricted FROM secret_db (ACCESS RESTRICTED)');
  assert.notEqual(url2, url);
  const gone = await failure(c, 'SELECT answer FROM r.t');
  assert.equal(gone.code, 'NOT_FOUND');
  assert.match(gone.message, /dropped or replaced/);
  assert.equal((await failure(c, `ATTACH '${url}' AS r2`)).code, 'NOT_FOUND');
  await a.rows('GRANT READ ON SHARE restricted TO carol');
  await c.rows(`DETACH r; ATTACH '${url2}' AS r`);
  assert.deepEqual(await c.rows('SELECT answer FROM r.t'), [{ answer: 42 }]);
  // dropped: the same at the next statement
  await a.rows('DROP SHARE restricted');
  assert.match((await failure(c, 'SELECT * FROM r.t')).message, /dropped or replaced/);
  await c.rows('DETACH r');
  assert.equal((await c.rows('SHOW DATABASES')).filter((r) => r.alias === 'r').length, 0);
});

test('a clone is usable by name at once; attached shares come back after a restart', async () => {
  const a = await connect('alice');
  await a.rows('CREATE DATABASE base; CREATE TABLE base.t AS SELECT range AS i FROM range(3)');
  await a.rows('CREATE DATABASE copy_of_base FROM base');
  assert.equal(await count(a, 'copy_of_base.t'), 3, 'no ATTACH needed');
  await a.rows('INSERT INTO copy_of_base.t VALUES (3)');
  assert.equal(await count(a, 'base.t'), 3, 'the clone is its own database');
  const url = await shareUrl(a, 'CREATE SHARE kept FROM base (UPDATE AUTOMATIC)');
  const b = await connect('bob');
  await b.rows(`ATTACH '${url}' AS kept`);
  // restart the server: bob's attachment and alice's databases are still there
  for (const c of open.splice(0)) await c.close().catch(() => {});
  const dataDir = srv.dataDir;
  await srv.stop();
  srv = await startServer({ dataDir });
  const a2 = await connect('alice');
  const b2 = await connect('bob');
  assert.equal(await count(a2, 'copy_of_base.t'), 4);
  assert.equal(await count(b2, 'kept.t'), 3);
  await a2.rows('INSERT INTO base.t VALUES (9)');
  assert.equal(await count(b2, 'kept.t'), 4);
  assert.deepEqual((await a2.rows('LIST SHARES')).map((r) => r.name).sort(),
    ['kept', 'live_auto', 'live_manual', 'orgshare', 'pubshare', 'sales']);
});

test('md_information_schema: databases, owned_shares with grants, shared_with_me, snapshots, storage, history', async () => {
  const a = await connect('alice');
  const b = await connect('bob');
  const c = await connect('carol');
  await a.rows('CREATE DATABASE info_db; CREATE TABLE info_db.t AS SELECT 1 AS v');
  const url = await shareUrl(a, 'CREATE SHARE info_share FROM info_db (ACCESS RESTRICTED)');
  await a.rows('GRANT READ ON SHARE info_share TO carol');
  const hidden = await shareUrl(a, 'CREATE SHARE info_hidden FROM info_db (VISIBILITY HIDDEN)');
  const dbs = await a.rows('SELECT name, type, historical_snapshot_retention::VARCHAR AS r FROM md_information_schema.databases ORDER BY name');
  assert.ok(dbs.some((d) => d.name === 'info_db' && d.type === 'default' && d.r === '7 days'), JSON.stringify(dbs));
  const owned = await a.rows("SELECT name, url, access, visibility, \"update\", grants FROM md_information_schema.owned_shares WHERE name LIKE 'info%' ORDER BY name");
  assert.deepEqual(owned.map((s) => [s.name, s.url, s.access, s.visibility, s.update]),
    [['info_hidden', hidden, 'ORGANIZATION', 'HIDDEN', 'MANUAL'], ['info_share', url, 'RESTRICTED', 'DISCOVERABLE', 'MANUAL']]);
  assert.deepEqual(Array.from(owned[1].grants, (g) => [g.username, g.access]), [['carol', 'READ']]);
  // listed to others: readable and DISCOVERABLE (or granted by name); never one's own, never hidden ones
  const bobSees = (await b.rows('SELECT name, owner FROM md_information_schema.shared_with_me ORDER BY name')).map((s) => s.name);
  assert.ok(!bobSees.includes('info_share'), 'restricted, not granted to bob');
  assert.ok(!bobSees.includes('info_hidden'), 'hidden');
  const carolSees = await c.rows('SELECT name, owner, url FROM md_information_schema.shared_with_me');
  assert.deepEqual(carolSees.filter((s) => s.name.startsWith('info')).map((s) => [s.name, s.owner, s.url]),
    [['info_share', 'alice', url]]);
  assert.equal((await a.rows("SELECT count(*)::INTEGER AS n FROM md_information_schema.shared_with_me WHERE owner = 'alice'"))[0].n, 0);
  const snaps = await a.rows("SELECT count(*)::INTEGER AS n FROM md_information_schema.database_snapshots WHERE database_name = 'info_db'");
  assert.ok(snaps[0].n >= 1);
  const storage = await a.rows("SELECT active_bytes > 0 AS some FROM md_information_schema.storage_info WHERE database_name = 'info_db'");
  assert.deepEqual(storage, [{ some: true }]);
  assert.deepEqual(await b.rows("SELECT * FROM md_information_schema.storage_info WHERE database_name = 'info_db'"), []);
});
