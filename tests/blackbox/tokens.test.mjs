// Black-box tests of users and tokens (server/meta.c, server/admin_cmd.c,
// server/api.c, the token checks of server/session.c) against a real
// ./mdserver: token kinds, names and expiry, `token list`, revocation that
// closes open sessions, `user create|list|delete`, and the HTTP API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, createToken, MDSERVER } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

let srv, admin;

before(async () => {
  srv = await startServer();
  execFileSync(MDSERVER, ['user', 'create', 'boss', '--role', 'admin', '--data-dir', srv.dataDir]);
  admin = createToken(srv.dataDir, 'boss');
});
after(async () => {
  await srv?.stop({ removeData: true });
});

const cli = (...args) => execFileSync(MDSERVER, [...args, '--data-dir', srv.dataDir], { encoding: 'utf8' });

async function api(method, path, { token = admin, body } = {}) {
  const r = await fetch(`${srv.http}/api/v1/${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

async function refusedHello(token) {
  try {
    const c = await MdClient.connect(srv.url, token);
    await c.close();
    return null;
  } catch (e) {
    return e;
  }
}

test('token kinds, names and expiry; token list; the WELCOME says the kind', async () => {
  const rw = createToken(srv.dataDir, 'tina', { name: 'laptop' });
  const ro = createToken(srv.dataDir, 'tina', { kind: 'read-only' });
  const rs = createToken(srv.dataDir, 'tina', { kind: 'read-scaling', expiresIn: '30d' });
  const c = await MdClient.connect(srv.url, rw);
  assert.equal(c.welcome.token_kind, 'read_write');
  await c.rows('CREATE TABLE my_db.t AS SELECT 1 AS v');
  await c.close();
  for (const [tok, kind] of [[ro, 'read_only'], [rs, 'read_scaling']]) {
    const r = await MdClient.connect(srv.url, tok);
    assert.equal(r.welcome.token_kind, kind);
    assert.equal(r.welcome.read_only, true);
    assert.deepEqual(await r.rows('SELECT v FROM my_db.t'), [{ v: 1 }]);
    const w = await r.query('INSERT INTO my_db.t VALUES (2)');
    assert.equal(w.error.code, 'READ_ONLY');
    await r.close();
  }
  const list = cli('token', 'list', '--user', 'tina');
  const lines = list.trim().split('\n');
  assert.match(lines[0], /kind.*name.*expires.*last used/);
  assert.equal(lines.length, 4, list);
  assert.match(lines[1], /read_write\s+laptop/);
  assert.match(lines[2], /read_only/);
  assert.match(lines[3], /read_scaling/);
  assert.doesNotMatch(lines[1], /never\s+-\s*$/, 'the token used above has a last use');
  assert.match(lines[3], /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'an expiry');
  // bad options are refused with a sentence
  assert.throws(() => cli('token', 'create', '--user', 'tina', '--kind', 'admin'), /rw, read-only or read-scaling/);
  assert.throws(() => cli('token', 'create', '--user', 'tina', '--expires-in', 'soon'), /duration/);
  // a token that expires: refused, and it says why
  const short = createToken(srv.dataDir, 'tina', { expiresIn: '1s' });
  const t0 = performance.now();
  let e;
  while (!(e = await refusedHello(short))) {
    assert.ok(performance.now() - t0 < 5000, 'a 1 s token stops working');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(e.code, 'AUTH_FAILED');
  assert.match(e.message, /expired/);
});

test('a revoked token closes its open sessions within a second or so; other tokens go on', async () => {
  const victim = createToken(srv.dataDir, 'rita');
  const other = createToken(srv.dataDir, 'rita');
  const a = await MdClient.connect(srv.url, victim);
  const b = await MdClient.connect(srv.url, other);
  await a.rows('SELECT 1');
  const id = cli('token', 'list', '--user', 'rita').trim().split('\n')[1].split(/\s+/)[0];
  const t0 = performance.now();
  assert.match(cli('token', 'revoke', id), /revoked token/);
  const closed = await Promise.race([a.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
  const ms = performance.now() - t0;
  assert.ok(closed, 'the session of the revoked token was closed');
  console.log(`revoked token: its session closed after ${ms.toFixed(0)} ms`);
  assert.ok(ms < 3000, `${ms} ms`);
  assert.deepEqual(await b.rows('SELECT 2 AS v'), [{ v: 2 }]);
  assert.equal((await refusedHello(victim)).code, 'AUTH_FAILED');
  await b.close();
});

test('user create, list and delete; a deleted name is never given again', async () => {
  assert.match(cli('user', 'create', 'ursula', '--org', 'acme'), /created user ursula/);
  assert.throws(() => cli('user', 'create', 'ursula'), /exists/);
  const tok = createToken(srv.dataDir, 'ursula');
  const c = await MdClient.connect(srv.url, tok);
  const users = cli('user', 'list');
  assert.match(users, /ursula\s+acme\s+member/);
  assert.match(users, /boss\s+default\s+admin/);
  assert.match(cli('user', 'delete', 'ursula'), /deleted user ursula/);
  await Promise.race([c.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), 5000))]);
  assert.doesNotMatch(cli('user', 'list'), /ursula/);
  assert.throws(() => cli('user', 'create', 'ursula'), /deleted user/);
  assert.throws(() => cli('token', 'create', '--user', 'ursula'), /deleted/);
});

test('the HTTP API: admin manages users and tokens, users their own tokens, nothing without a valid token', async () => {
  assert.equal((await api('GET', 'users', { token: null })).status, 401);
  assert.equal((await api('GET', 'users', { token: 'mdt_' + 'x'.repeat(43) })).status, 401);
  const made = await api('POST', 'users', { body: { username: 'api_user', org: 'acme' } });
  assert.equal(made.status, 201);
  assert.deepEqual(made.json, { username: 'api_user', org: 'acme', role: 'member' });
  assert.equal((await api('POST', 'users', { body: { username: 'api_user' } })).status, 409);
  assert.equal((await api('POST', 'users', { body: { username: 'Bad Name' } })).status, 400);
  assert.equal((await api('POST', 'users', { body: '[' + '['.repeat(100) })).status, 400);
  assert.equal((await api('POST', 'users', { body: 'x'.repeat(20000) })).status, 413);
  const users = await api('GET', 'users');
  assert.ok(users.json.some((u) => u.username === 'api_user' && u.org === 'acme'));
  // a token for the user, with a kind, a name and a life
  const t = await api('POST', 'users/api_user/tokens', { body: { token_type: 'read_scaling', name: 'bi', ttl: 3600 } });
  assert.equal(t.status, 201);
  assert.match(t.json.token, /^mdt_[A-Za-z0-9_-]{43}$/);
  assert.equal(t.json.token_type, 'read_scaling');
  const rwTok = (await api('POST', 'users/api_user/tokens', { body: {} })).json.token;
  const c = await MdClient.connect(srv.url, t.json.token);
  assert.equal(c.welcome.token_kind, 'read_scaling');
  await c.close();
  // the user manages its own tokens with a read_write token, nobody else's
  const mine = await api('GET', 'users/api_user/tokens', { token: rwTok });
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.map((x) => [x.token_type, x.name]), [['read_scaling', 'bi'], ['read_write', null]]);
  assert.ok(mine.json[0].expires_at);
  assert.ok(!JSON.stringify(mine.json).includes(t.json.token), 'a listing never shows a token');
  assert.equal((await api('GET', 'users', { token: rwTok })).status, 403);
  assert.equal((await api('GET', 'users/boss/tokens', { token: rwTok })).status, 403);
  assert.equal((await api('GET', 'users/api_user/tokens', { token: t.json.token })).status, 403, 'read_write only');
  assert.equal((await api('POST', 'users/api_user/tokens', { token: rwTok, body: { token_type: 'god' } })).status, 400);
  assert.equal((await api('DELETE', `users/api_user/tokens/${t.json.id}`, { token: rwTok })).status, 200);
  assert.equal((await api('DELETE', `users/api_user/tokens/${t.json.id}`, { token: rwTok })).status, 404);
  assert.equal((await refusedHello(t.json.token)).code, 'AUTH_FAILED');
  assert.equal((await api('GET', 'nothing')).status, 404);
  assert.equal((await api('PUT', 'users')).status, 405);
  // delete the user: its tokens stop working
  assert.equal((await api('DELETE', 'users/api_user')).status, 200);
  assert.equal((await api('DELETE', 'users/api_user')).status, 404);
  assert.equal((await api('GET', 'users/api_user/tokens', { token: rwTok })).status, 401);
  assert.equal((await api('DELETE', 'users/boss')).status, 400, 'an admin does not delete itself');
});
