// Black-box tests of the command line: `mdserver token ...` and
// `mdserver client ...` against a real server on 127.0.0.1, and the pool's
// limits (idle timeout, maximum ducklings), and shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, createToken, MDSERVER } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

let srv, tok;

before(async () => {
  srv = await startServer();
  tok = createToken(srv.dataDir, 'cli_user');
});
after(async () => { await srv?.stop({ removeData: true }); });

function client(args, { env = {}, input } = {}) {
  const r = spawnSync(MDSERVER, ['client', '--url', srv.url, ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, input, timeout: 60000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Wait for `cond()` to hold, re-checking on every event-loop turn, up to `ms`. */
async function until(cond, ms = 30000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}

test('token create prints only the token; list shows it; revoke ends it', async () => {
  const t = spawnSync(MDSERVER, ['token', 'create', '--data-dir', srv.dataDir, '--user', 'dora', '--read-only'],
    { encoding: 'utf8' });
  assert.equal(t.status, 0);
  assert.match(t.stdout, /^mdt_[A-Za-z0-9_-]{43}\n$/);
  const token = t.stdout.trim();
  const list = spawnSync(MDSERVER, ['token', 'list', '--data-dir', srv.dataDir], { encoding: 'utf8' });
  assert.equal(list.status, 0);
  const line = list.stdout.split('\n').find((l) => l.includes('dora'));
  assert.ok(line, list.stdout);
  assert.match(line, /read_only/);
  assert.ok(line.includes(token.slice(0, 8)), 'listing shows the token prefix');
  assert.ok(!list.stdout.includes(token), 'listing never shows a whole token');
  const c = await MdClient.connect(srv.url, token);
  await c.close();
  const id = line.trim().split(/\s+/)[0];
  const rev = spawnSync(MDSERVER, ['token', 'revoke', '--data-dir', srv.dataDir, id], { encoding: 'utf8' });
  assert.equal(rev.status, 0, rev.stderr);
  await assert.rejects(MdClient.connect(srv.url, token), (e) => e.code === 'AUTH_FAILED');
  const bad = spawnSync(MDSERVER, ['token', 'create', '--data-dir', srv.dataDir, '--user', 'Bad Name'],
    { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /a-z, 0-9/);
});

test('client -c runs several statements and prints each result', () => {
  const r = client(['--token', tok, '--format', 'csv', '-c',
    "CREATE OR REPLACE TABLE c AS SELECT * FROM (VALUES (1, 'a,b'), (2, NULL)) v(k, s); SELECT k, s FROM c ORDER BY k"]);
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.endsWith('k,s\n1,"a,b"\n2,\n'), r.out);
});

test('client formats: table and json', () => {
  const t = client(['--token', tok, '-c', "SELECT 42 AS answer, 'duck' AS name"]);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /answer/);
  assert.match(t.out, /│\s+42 │/);
  assert.match(t.out, /duck/);
  const j = client(['--token', tok, '--format', 'json', '-c', "SELECT 42 AS answer, [1,2] AS l, DATE '2024-01-02' AS d"]);
  assert.equal(j.code, 0, j.err);
  assert.deepEqual(JSON.parse(j.out), [{ answer: 42, l: [1, 2], d: '2024-01-02' }]);
});

test('client takes the token from MD_TOKEN and SQL from stdin', () => {
  const r = spawnSync(MDSERVER, ['client', '--url', srv.url, '--format', 'csv'], {
    encoding: 'utf8', env: { ...process.env, MD_TOKEN: tok }, input: 'SELECT 7 AS x;\n',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'x\n7\n');
});

test('client: a SQL error exits 1 with the server message and position on stderr', () => {
  const r = client(['--token', tok, '-c', 'SELECT nosuchcol FROM range(1)']);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /Binder Error: .*nosuchcol/);
  assert.match(r.err, /\^/, 'points at the position');
});

test('client: a bad token or an unreachable server exits 2 with a clear message', () => {
  const r = client(['--token', 'mdt_' + 'Z'.repeat(43), '-c', 'SELECT 1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /authentication failed/);
  const dead = spawnSync(MDSERVER, ['client', '--url', 'ws://127.0.0.1:1/ws', '--token', tok, '-c', 'SELECT 1'],
    { encoding: 'utf8' });
  assert.equal(dead.status, 2);
  assert.match(dead.stderr, /cannot connect/);
});

test('client --local FILE: dual execution from the terminal, joins split, cross-site writes, EXPLAIN', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-local-'));
  const file = path.join(dir, 'mine.duckdb');
  try {
    let r = client(['--token', tok, '-c', 'CREATE OR REPLACE TABLE facts AS SELECT i AS id, i % 100 AS k, i * 2 AS v FROM range(100000) t(i)']);
    assert.equal(r.code, 0, r.err);
    const local = (sql, more = []) => client(['--token', tok, '--local', file, '--format', 'csv', ...more, '-c', sql]);
    r = local("CREATE TABLE mine.dim AS SELECT i AS k, 'label' || i AS label FROM range(100) t(i)");
    assert.equal(r.code, 0, r.err);
    const q = 'SELECT d.label, count(*) AS n, sum(f.v)::BIGINT AS s FROM facts f JOIN dim d ON f.k = d.k WHERE d.k < 3 GROUP BY d.label ORDER BY 1';
    r = local(q);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'label,n,s\nlabel0,1000,99900000\nlabel1,1000,99902000\nlabel2,1000,99904000\n');
    assert.match(r.err, /hybrid \(split\): 1 bridge moved \d+ bytes to the server and 0 bytes from it/);
    r = local(`EXPLAIN ${q}`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\(R\) +SCAN my_db\.main\.facts AS f/);
    assert.match(r.out, /\(R\) +BRIDGE __md_b\d+_0 L->R mine\.main\.dim \(est\. \d+ rows/);
    assert.match(r.out, /\(L\) +SCAN mine\.main\.dim AS d/);
    // the rows move once, into the file: it keeps them after the client exits
    r = local('CREATE TABLE mine.copy AS SELECT * FROM facts WHERE id % 1000 = 0');
    assert.equal(r.code, 0, r.err);
    r = local('SELECT count(*) AS n, sum(v) AS s FROM mine.copy');
    assert.equal(r.out, 'n,s\n100,9900000\n');
    // a statement that cannot be split says why and exits 1
    r = local('DELETE FROM facts USING mine.dim WHERE facts.k = dim.k');
    assert.equal(r.code, 1);
    assert.match(r.err, /DELETE cannot combine data in the browser with data on the server/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pool: an idle duckling stops after --idle-timeout; the next query starts a new one', async () => {
  const s = await startServer({ args: ['--idle-timeout', '1'] });
  try {
    const t = createToken(s.dataDir, 'idler');
    let c = await MdClient.connect(s.url, t);
    await c.rows('CREATE TABLE kept AS SELECT 1 AS v');
    const [pid] = s.children();
    assert.ok(pid);
    await c.close();
    await until(() => s.children().length === 0);
    assert.match(s.stderr, /stopping idle duckling for user idler/);
    c = await MdClient.connect(s.url, t);
    assert.deepEqual(await c.rows('SELECT v FROM kept'), [{ v: 1 }]);
    assert.notEqual(s.children()[0], pid);
    await c.close();
  } finally {
    await s.stop({ removeData: true });
  }
});

test('pool: over --max-ducklings a query gets SERVER_BUSY; an idle duckling is evicted for a new user', async () => {
  const s = await startServer({ args: ['--max-ducklings', '1'] });
  try {
    const a = await MdClient.connect(s.url, createToken(s.dataDir, 'first'));
    const b = await MdClient.connect(s.url, createToken(s.dataDir, 'second'));
    await a.rows('SELECT 1');
    const r = await b.query('SELECT 2');
    assert.equal(r.error?.code, 'SERVER_BUSY');
    assert.match(r.error.message, /maximum of 1 query engines/);
    await a.close();
    assert.deepEqual(await b.rows('SELECT 2 AS two'), [{ two: 2 }]);
    await b.close();
  } finally {
    await s.stop({ removeData: true });
  }
});

test('SIGTERM: the server and its ducklings exit cleanly, and a killed server loses no committed row', async () => {
  const s = await startServer();
  const t = createToken(s.dataDir, 'shut');
  const c = await MdClient.connect(s.url, t);
  await c.rows('CREATE TABLE t AS SELECT range AS i FROM range(10)');
  const kids = s.children();
  assert.equal(await s.stop(), 0);
  for (const pid of kids) assert.throws(() => process.kill(pid, 0), 'duckling exited');

  // kill -9 of the server: the duckling sees its control socket close and exits on its own.
  const s2 = await startServer({ dataDir: s.dataDir });
  let c2 = await MdClient.connect(s2.url, t);
  await c2.rows('INSERT INTO t VALUES (10)');
  const kids2 = s2.children();
  s2.proc.kill('SIGKILL');
  await until(() => kids2.every((pid) => { try { process.kill(pid, 0); return false; } catch { return true; } }));
  const s3 = await startServer({ dataDir: s.dataDir });
  c2 = await MdClient.connect(s3.url, t);
  assert.deepEqual(await c2.rows('SELECT count(*)::INT AS n FROM t'), [{ n: 11 }]);
  await c2.close();
  await s3.stop({ removeData: true });
});

test('client: Ctrl-C (SIGINT) cancels the running query, exit 1 with CANCELLED', async () => {
  const watcher = await MdClient.connect(srv.url, tok);
  await watcher.rows('DROP TABLE IF EXISTS started');
  const p = spawn(MDSERVER, ['client', '--url', srv.url, '--token', tok, '-c',
    'CREATE TABLE IF NOT EXISTS big AS SELECT i FROM range(20000000) t(i); CREATE TABLE started AS SELECT 1 AS x; ' +
    'SELECT max(md5(md5(md5(md5(i::VARCHAR))))) FROM big'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((res) => p.on('exit', res));
  // The long SELECT is next once `started` exists.
  await until(async () => (await watcher.rows(
    "SELECT count(*)::INT AS n FROM duckdb_tables() WHERE table_name = 'started'"))[0].n === 1);
  const t0 = Date.now();
  p.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 1, err);
  assert.match(err, /cancel/i);
  assert.ok(Date.now() - t0 < 5000, 'cancelled promptly, not run to the end');
  await watcher.close();
});
