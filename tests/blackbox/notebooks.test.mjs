// Black-box tests of the workspace store's requests against a real
// ./mdserver.  NOTEBOOK (server/notebooks.h): every op, versions that
// refuse a stale save, one user never reaching another's notebooks,
// read-only tokens, bad requests, the trash (restore, and the purge after 7
// days), notebooks surviving a restart of the server.  HISTORY
// (server/history.h): add, search, pages, per user, clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, createToken } from '../lib/server.mjs';
import { MdClient, MSG } from '../lib/mdclient.mjs';

let srv, alice, bob, aliceRo;

before(async () => {
  srv = await startServer();
  alice = createToken(srv.dataDir, 'alice');
  bob = createToken(srv.dataDir, 'bob');
  aliceRo = createToken(srv.dataDir, 'alice', { readOnly: true });
});
after(async () => {
  await srv?.stop({ removeData: true });
});

/** One NOTEBOOK request: resolves to the answer's JSON; rejects with the ERROR's code. */
async function nb(c, payload) {
  const f = await c.request(MSG.NOTEBOOK, payload);
  if (f.type === MSG.ERROR) throw Object.assign(new Error(f.json.message), { code: f.json.code });
  assert.equal(f.type, MSG.NOTEBOOK);
  return f.json;
}

const rejectsWith = (p, code) => assert.rejects(p, (e) => { assert.equal(e.code, code, e.message); return true; });

test('create, get, save with versions, rename, duplicate, list newest first', async () => {
  const c = await MdClient.connect(srv.url, alice);
  try {
    const doc = JSON.stringify({ cells: [{ type: 'sql', source: 'SELECT 1' }] });
    const made = await nb(c, { op: 'create', title: 'Sales', content: doc });
    assert.match(made.id, /^[0-9a-f]{32}$/);
    assert.equal(made.version, 1);
    assert.equal(made.content, doc);
    const saved = await nb(c, { op: 'save', id: made.id, version: 1, content: '{"cells":[]}' });
    assert.equal(saved.version, 2);
    // a save made from version 1 again (another tab's) is refused and overwrites nothing
    await rejectsWith(nb(c, { op: 'save', id: made.id, version: 1, content: 'stale' }), 'VERSION_CONFLICT');
    const got = await nb(c, { op: 'get', id: made.id });
    assert.equal(got.content, '{"cells":[]}');
    assert.equal(got.version, 2);
    // renaming does not change the version (it never conflicts with typing)
    assert.equal((await nb(c, { op: 'rename', id: made.id, title: 'Sales 2026' })).title, 'Sales 2026');
    assert.equal((await nb(c, { op: 'get', id: made.id })).version, 2);
    const copy = await nb(c, { op: 'duplicate', id: made.id, title: 'Sales 2026 (copy)' });
    assert.notEqual(copy.id, made.id);
    assert.equal(copy.content, '{"cells":[]}');
    assert.equal(copy.version, 1);
    const list = await nb(c, { op: 'list' });
    assert.deepEqual(list.notebooks.map((n) => n.title).slice(0, 2), ['Sales 2026 (copy)', 'Sales 2026']);
    assert.equal(list.notebooks[0].content, undefined, 'the list carries no content');
  } finally {
    await c.close();
  }
});

test('delete puts a notebook in the trash: restorable, then purged after 7 days', async () => {
  const c = await MdClient.connect(srv.url, alice);
  try {
    const a = await nb(c, { op: 'create', title: 'Scratch' });
    const b = await nb(c, { op: 'create', title: 'Old' });
    const del = await nb(c, { op: 'delete', id: a.id });
    assert.equal(del.purge_ms - del.deleted_ms, 7 * 24 * 3600 * 1000);
    let list = await nb(c, { op: 'list' });
    assert.ok(!list.notebooks.some((n) => n.id === a.id));
    assert.deepEqual(list.trash.find((n) => n.id === a.id)?.title, 'Scratch');
    await rejectsWith(nb(c, { op: 'get', id: a.id }), 'NOT_FOUND');
    await rejectsWith(nb(c, { op: 'save', id: a.id, version: 1, content: 'x' }), 'NOT_FOUND');
    assert.equal((await nb(c, { op: 'restore', id: a.id })).title, 'Scratch');
    assert.equal((await nb(c, { op: 'get', id: a.id })).title, 'Scratch');
    // one deleted 8 days ago is gone for good
    await nb(c, { op: 'delete', id: b.id });
    const eightDays = Date.now() - 8 * 24 * 3600 * 1000;
    execFileSync('sqlite3', [`${srv.dataDir}/workspace.sqlite3`,
      `UPDATE notebooks SET deleted_ms = ${eightDays} WHERE id = '${b.id}'`]);
    list = await nb(c, { op: 'list' });
    assert.ok(!list.trash.some((n) => n.id === b.id));
    await rejectsWith(nb(c, { op: 'restore', id: b.id }), 'NOT_FOUND');
  } finally {
    await c.close();
  }
});

test("a user never reaches another user's notebook; a read-only token may only read", async () => {
  const a = await MdClient.connect(srv.url, alice);
  const b = await MdClient.connect(srv.url, bob);
  const ro = await MdClient.connect(srv.url, aliceRo);
  try {
    const mine = await nb(a, { op: 'create', title: 'Private', content: 'secret plans' });
    for (const op of ['get', 'delete', 'restore']) await rejectsWith(nb(b, { op, id: mine.id }), 'NOT_FOUND');
    await rejectsWith(nb(b, { op: 'save', id: mine.id, version: 1, content: 'mine now' }), 'NOT_FOUND');
    await rejectsWith(nb(b, { op: 'rename', id: mine.id, title: 'x' }), 'NOT_FOUND');
    await rejectsWith(nb(b, { op: 'duplicate', id: mine.id, title: 'x' }), 'NOT_FOUND');
    assert.ok(!(await nb(b, { op: 'list' })).notebooks.some((n) => n.id === mine.id));
    assert.equal((await nb(a, { op: 'get', id: mine.id })).content, 'secret plans');

    assert.equal((await nb(ro, { op: 'get', id: mine.id })).content, 'secret plans');
    assert.ok((await nb(ro, { op: 'list' })).notebooks.some((n) => n.id === mine.id));
    await rejectsWith(nb(ro, { op: 'save', id: mine.id, version: 1, content: 'x' }), 'READ_ONLY');
    await rejectsWith(nb(ro, { op: 'create', title: 'x' }), 'READ_ONLY');
  } finally {
    await Promise.all([a.close(), b.close(), ro.close()]);
  }
});

test('bad NOTEBOOK requests get a clear error and the connection stays usable', async () => {
  const c = await MdClient.connect(srv.url, alice);
  try {
    await rejectsWith(nb(c, {}), 'INVALID_ARGUMENT');
    await rejectsWith(nb(c, { op: 'drop_everything' }), 'INVALID_ARGUMENT');
    await rejectsWith(nb(c, { op: 'create' }), 'INVALID_ARGUMENT');
    await rejectsWith(nb(c, { op: 'create', title: '   ' }), 'INVALID_ARGUMENT');
    await rejectsWith(nb(c, { op: 'create', title: 'x'.repeat(201) }), 'TOO_LARGE');
    await rejectsWith(nb(c, { op: 'create', title: 't', content: 5 }), 'INVALID_ARGUMENT');
    await rejectsWith(nb(c, { op: 'get', id: "' OR 1=1 --" }), 'NOT_FOUND');
    await rejectsWith(nb(c, { op: 'get', id: 7 }), 'INVALID_ARGUMENT');
    const made = await nb(c, { op: 'create', title: 't' });
    await rejectsWith(nb(c, { op: 'save', id: made.id, content: 'x' }), 'INVALID_ARGUMENT');
    await rejectsWith(nb(c, { op: 'save', id: made.id, version: 1, content: 'x'.repeat(16 * 1024 * 1024 + 1) }),
      'TOO_LARGE');
    // deep nesting is refused before it is parsed; text that is not JSON too
    const deep = `{"op":"list","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    let f = await c.request(MSG.NOTEBOOK, new TextEncoder().encode(deep));
    assert.equal(f.json.code, 'BAD_FRAME');
    f = await c.request(MSG.NOTEBOOK, new TextEncoder().encode('not json'));
    assert.equal(f.json.code, 'BAD_FRAME');
    assert.deepEqual(await c.rows('SELECT 42 AS x'), [{ x: 42 }]);
  } finally {
    await c.close();
  }
});

test("a user's notebooks hold at most 256 MiB, the trash included; a save that would pass it is refused", async () => {
  const c = await MdClient.connect(srv.url, createToken(srv.dataDir, 'carol'));
  try {
    const big = 'x'.repeat(16 * 1024 * 1024 - 64);
    let last;
    for (let i = 0; i < 16; i++) last = await nb(c, { op: 'create', title: `big ${i}`, content: big });
    await nb(c, { op: 'delete', id: last.id }); // the trash still counts
    await rejectsWith(nb(c, { op: 'create', title: 'one more', content: big }), 'TOO_LARGE');
    await rejectsWith(nb(c, { op: 'duplicate', id: (await nb(c, { op: 'list' })).notebooks[0].id, title: 'copy' }), 'TOO_LARGE');
    // replacing a notebook's text counts the new text instead of the old
    const first = (await nb(c, { op: 'list' })).notebooks.at(-1);
    assert.equal((await nb(c, { op: 'save', id: first.id, version: 1, content: big })).version, 2);
    const small = await nb(c, { op: 'create', title: 'small', content: 'SELECT 1' });
    await rejectsWith(nb(c, { op: 'save', id: small.id, version: 1, content: big }), 'TOO_LARGE');
  } finally {
    await c.close();
  }
});

test('notebooks survive a restart of the server', async () => {
  let c = await MdClient.connect(srv.url, alice);
  const made = await nb(c, { op: 'create', title: 'Kept', content: 'SELECT 2' });
  await nb(c, { op: 'save', id: made.id, version: 1, content: 'SELECT 3' });
  await c.close();
  const dataDir = srv.dataDir;
  await srv.stop();
  srv = await startServer({ dataDir });
  c = await MdClient.connect(srv.url, alice);
  try {
    const got = await nb(c, { op: 'get', id: made.id });
    assert.equal(got.content, 'SELECT 3');
    assert.equal(got.version, 2);
  } finally {
    await c.close();
  }
});

/** One HISTORY request (as nb() for NOTEBOOK). */
async function hist(c, payload) {
  const f = await c.request(MSG.HISTORY, payload);
  if (f.type === MSG.ERROR) throw Object.assign(new Error(f.json.message), { code: f.json.code });
  assert.equal(f.type, MSG.HISTORY);
  return f.json;
}

test('query history: newest first, searched literally, paged, per user, cleared; bad entries refused', async () => {
  const a = await MdClient.connect(srv.url, alice);
  const b = await MdClient.connect(srv.url, bob);
  const ro = await MdClient.connect(srv.url, aliceRo);
  try {
    await hist(a, { op: 'clear' });
    await hist(a, { op: 'add', sql: 'SELECT 1', site: 'remote', ms: 12.5, rows: 1 });
    await hist(a, { op: 'add', sql: "SELECT '100%_done' AS x", site: 'local', ms: 3, rows: 1 });
    await hist(a, { op: 'add', sql: 'SELECT nope', site: 'remote', ms: 1, error: 'Binder Error: nope' });
    const all = (await hist(a, { op: 'list' })).entries;
    assert.deepEqual(all.map((e) => e.sql), ['SELECT nope', "SELECT '100%_done' AS x", 'SELECT 1']);
    assert.equal(all[0].error, 'Binder Error: nope');
    assert.equal(all[0].rows, null);
    assert.equal(all[2].ms, 12.5);
    assert.ok(all[0].at_ms >= all[2].at_ms && all[0].at_ms > Date.now() - 60000);
    // % and _ are text, not patterns; search ignores case
    assert.deepEqual((await hist(a, { op: 'list', search: '%_' })).entries.map((e) => e.sql), ["SELECT '100%_done' AS x"]);
    assert.equal((await hist(a, { op: 'list', search: 'select' })).entries.length, 3);
    const page = await hist(a, { op: 'list', limit: 2 });
    assert.equal(page.entries.length, 2);
    const rest = await hist(a, { op: 'list', before: page.entries[1].id });
    assert.deepEqual(rest.entries.map((e) => e.sql), ['SELECT 1']);
    assert.equal((await hist(b, { op: 'list' })).entries.length, 0, "bob sees none of alice's");
    assert.equal((await hist(ro, { op: 'list' })).entries.length, 3);
    await rejectsWith(hist(ro, { op: 'add', sql: 'x', site: 'local', ms: 1 }), 'READ_ONLY');
    await rejectsWith(hist(a, { op: 'add', sql: 'x', site: 'mars', ms: 1 }), 'INVALID_ARGUMENT');
    await rejectsWith(hist(a, { op: 'add', sql: 'x', site: 'local', ms: -1 }), 'INVALID_ARGUMENT');
    await rejectsWith(hist(a, { op: 'add', sql: 'x'.repeat(32 * 1024 + 1), site: 'local', ms: 1 }), 'TOO_LARGE');
    await rejectsWith(hist(a, { op: 'forget' }), 'INVALID_ARGUMENT');
    assert.equal((await hist(a, { op: 'clear' })).deleted, 3);
    assert.equal((await hist(a, { op: 'list' })).entries.length, 0);
  } finally {
    await Promise.all([a.close(), b.close(), ro.close()]);
  }
});
