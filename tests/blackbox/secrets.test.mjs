// Black-box tests of stored secrets (server/secrets.c, server/duckling/
// secretcmds.c) against a real ./mdserver: CREATE SECRET ... IN MOTHERDUCK
// and CREATE PERSISTENT SECRET, md_secrets(), DROP SECRET ... FROM MD, one
// user's secrets out of another's reach, a restart and a key rotation in
// between, and a grep of everything the server wrote for the values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, createToken, MDSERVER } from '../lib/server.mjs';
import { MdClient, MSG } from '../lib/mdclient.mjs';

let srv, alice, bob;
// Values that must appear nowhere the server writes.
const VALUES = ['tok-Qz7RkLp0-http-value', 'aws-Vb93XmWq-secret-value', 'sess-Hh2Lk8Pq-token', 'NEVER-ECHOED-x91'];

before(async () => {
  srv = await startServer();
  alice = createToken(srv.dataDir, 'alice');
  bob = createToken(srv.dataDir, 'bob');
});
after(async () => {
  await srv?.stop({ removeData: true });
});

async function failure(c, sql) {
  const r = await c.query(sql);
  assert.ok(r.error, `${sql} should fail`);
  return r.error;
}

/** Every file under dir, recursively. */
function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function assertNowhere(label) {
  const found = [];
  for (const f of files(srv.dataDir)) {
    const bytes = readFileSync(f);
    for (const v of VALUES) if (bytes.includes(v)) found.push(`${f}: ${v}`);
  }
  for (const v of VALUES) {
    if (srv.stderr.includes(v)) found.push(`server stderr: ${v}`);
    if (srv.stdout.includes(v)) found.push(`server stdout: ${v}`);
  }
  assert.deepEqual(found, [], `${label}: a secret's value was written in clear`);
}

test('secrets are stored sealed, listed without values, and active only for their user', async () => {
  const key = statSync(join(srv.dataDir, 'master.key'));
  assert.equal(key.mode & 0o777, 0o600, 'the master key file is private');
  const a = await MdClient.connect(srv.url, alice);
  const b = await MdClient.connect(srv.url, bob);
  const made = await a.rows(`CREATE SECRET web IN MOTHERDUCK (TYPE http, BEARER_TOKEN '${VALUES[0]}', ` +
    "SCOPE 'https://api.example.com')");
  assert.deepEqual(made.map((r) => [r.name, r.type]), [['web', 'http']]);
  assert.match(made[0].status, /active/);
  const s3 = await a.rows(`CREATE PERSISTENT SECRET lake (TYPE s3, KEY_ID 'AKIAEXAMPLE', SECRET '${VALUES[1]}', ` +
    `SESSION_TOKEN '${VALUES[2]}', REGION 'eu-west-1')`);
  assert.match(s3[0].status, /httpfs/, 'the notice says why s3 secrets are not active here');
  // the default name, and IN MD
  await a.rows(`CREATE SECRET IN MD (TYPE http, BEARER_TOKEN '${VALUES[0]}')`);
  const listed = await a.rows('FROM md_secrets() ORDER BY name');
  assert.deepEqual(listed.map((r) => [r.name, r.type, r.scope, r.storage, r.active]), [
    ['__default_http', 'http', null, 'motherduck', true],
    ['lake', 's3', null, 'motherduck', false],
    ['web', 'http', 'https://api.example.com', 'motherduck', true],
  ]);
  const lake = listed.find((r) => r.name === 'lake').secret_string;
  assert.match(lake, /key_id=AKIAEXAMPLE/);
  assert.match(lake, /region=eu-west-1/);
  assert.match(lake, /secret=redacted/);
  assert.match(lake, /session_token=redacted/);
  for (const r of listed) for (const v of VALUES) assert.ok(!JSON.stringify(r).includes(v));
  // bob sees none of them
  assert.deepEqual(await b.rows('FROM md_secrets()'), []);
  // DuckDB's own listing may show an http secret's token: refused
  assert.equal((await failure(a, 'SELECT * FROM duckdb_secrets()')).code, 'PERMISSION_DENIED');
  assert.equal((await failure(a, "SELECT which_secret('https://api.example.com/x', 'http')")).code, 'PERMISSION_DENIED');
  // errors never quote a value
  const bad = await failure(a, `CREATE SECRET bad IN MD (TYPE http, NO_SUCH_PARAM '${VALUES[3]}')`);
  assert.ok(!bad.message.includes(VALUES[3]), bad.message);
  const bad2 = await failure(a, `CREATE SECRET bad2 IN MD (TYPE http, BEARER_TOKEN '${VALUES[3]}' '${VALUES[3]}')`);
  assert.ok(!bad2.message.includes(VALUES[3]), bad2.message);
  const bad3 = await failure(a, `CREATE SECRET bad3 IN MD (TYPE http, BEARER_TOKEN '${VALUES[3]}' ${VALUES[3]})`);
  assert.ok(!bad3.message.includes(VALUES[3]), bad3.message);
  assert.equal((await failure(a, `CREATE SECRET web IN MD (TYPE http, BEARER_TOKEN 'x')`)).code, 'ALREADY_EXISTS');
  assert.equal((await a.rows(`CREATE SECRET IF NOT EXISTS web IN MD (TYPE http, BEARER_TOKEN 'x')`))[0].status,
    'already exists');
  assert.equal((await failure(a, 'CREATE SECRET nt IN MD (BEARER_TOKEN \'x\')')).code, 'SQL_ERROR');
  // the page's query history keeps the statement without its values
  const h = await a.request(MSG.HISTORY, {
    op: 'add', site: 'server', ms: 1,
    sql: `CREATE SECRET web2 IN MD (TYPE http, BEARER_TOKEN '${VALUES[0]}')`,
  });
  assert.equal(h.type, MSG.HISTORY);
  const hl = await a.request(MSG.HISTORY, { op: 'list' });
  assert.equal(hl.json.entries[0].sql, "CREATE SECRET web2 IN MD (TYPE http, BEARER_TOKEN '***')");
  const qh = await a.rows('SELECT query_text, user_name FROM md_information_schema.query_history ORDER BY query_id DESC LIMIT 1');
  assert.deepEqual(qh, [{ query_text: "CREATE SECRET web2 IN MD (TYPE http, BEARER_TOKEN '***')", user_name: 'alice' }]);
  assert.deepEqual(await b.rows('SELECT * FROM md_information_schema.query_history'), [], "bob sees none of alice's");
  // DROP: FROM MD, PERSISTENT, or a plain DROP SECRET of a stored name
  await a.rows('DROP SECRET __default_http FROM MOTHERDUCK');
  await a.rows('DROP PERSISTENT SECRET IF EXISTS nothing_here');
  assert.equal((await failure(a, 'DROP SECRET nothing_here FROM MD')).code, 'NOT_FOUND');
  assert.deepEqual((await a.rows('FROM md_secrets() ORDER BY name')).map((r) => r.name), ['lake', 'web']);
  // DuckDB's own temporary secrets are still DuckDB's
  await a.rows("CREATE TEMPORARY SECRET mine (TYPE http, BEARER_TOKEN 'local-only'); DROP SECRET mine");
  await a.close();
  await b.close();
  assertNowhere('after creating secrets');
});

test('secrets survive a restart and a key rotation; the key file is what opens them', async () => {
  const dataDir = srv.dataDir;
  await srv.stop();
  const before = readFileSync(join(dataDir, 'master.key'), 'utf8');
  const out = execFileSync(MDSERVER, ['secrets', 'rotate-key', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.match(out, /sealed 2 secrets under a new master key/);
  const after = readFileSync(join(dataDir, 'master.key'), 'utf8');
  assert.notEqual(after, before);
  assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
  srv = await startServer({ dataDir });
  const a = await MdClient.connect(srv.url, alice);
  const listed = await a.rows('FROM md_secrets() ORDER BY name');
  assert.deepEqual(listed.map((r) => [r.name, r.active]), [['lake', false], ['web', true]]);
  await a.close();
  assertNowhere('after the rotation');
  // a key file others may read is refused, and so is a wrong key
  await srv.stop();
  execFileSync('chmod', ['644', join(dataDir, 'master.key')]);
  const r = (() => {
    try { execFileSync(MDSERVER, ['secrets', 'rotate-key', '--data-dir', dataDir], { stdio: 'pipe' }); return ''; }
    catch (e) { return String(e.stderr); }
  })();
  assert.match(r, /chmod 600/);
  execFileSync('chmod', ['600', join(dataDir, 'master.key')]);
  srv = await startServer({ dataDir });
});
