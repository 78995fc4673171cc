// Black-box tests of PARSE and DEPARSE (server/duckdb/ast_json.c): DuckDB's parse
// tree of a SELECT as JSON, and a (rewritten) tree printed back to SQL that
// DuckDB runs; errors with their codes and positions; the session keeps
// working after each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createToken } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';
import { MSG } from '../../build/ui/js/wire.js';

let srv, c;

before(async () => {
  srv = await startServer();
  c = await MdClient.connect(srv.url, createToken(srv.dataDir, 'astuser'));
  await c.rows('CREATE TABLE t AS SELECT range AS a, range % 7 AS b FROM range(100)');
});
after(async () => {
  await c?.close();
  await srv?.stop({ removeData: true });
});

test('PARSE answers DuckDB\'s tree; DEPARSE prints a rewritten tree back to SQL that runs', async () => {
  const sql = 'SELECT b, count(*) AS n FROM t WHERE a > 10 GROUP BY b ORDER BY b';
  const f = await c.request(MSG.PARSE, { sql });
  assert.equal(f.type, MSG.PARSE, JSON.stringify(f.json));
  const [stmt] = f.json.statements;
  assert.equal(stmt.node.type, 'SELECT_NODE');
  assert.equal(stmt.node.from_table.table_name, 't');
  assert.equal(stmt.node.where_clause.type, 'COMPARE_GREATERTHAN');
  assert.equal(f.json.error, false);

  // rewrite: the filter's constant 10 becomes 90
  stmt.node.where_clause.right.value.value = 90;
  const d = await c.request(MSG.DEPARSE, { statements: [stmt] });
  assert.equal(d.type, MSG.DEPARSE, JSON.stringify(d.json));
  assert.match(d.json.sql, /90/);
  const rows = await c.rows(d.json.sql);
  assert.equal(rows.reduce((s, r) => s + Number(r.n), 0), 9);

  // numbers beyond 2^53 pass through untouched (the server never re-prints a tree)
  const big = await c.request(MSG.PARSE, { sql: 'SELECT 9007199254740993 AS big' });
  const text = new TextDecoder().decode(big.payload);
  assert.match(text, /"value":9007199254740993/);
  assert.match(text, /"query_location":18446744073709551615/);
  const bigBack = await c.request(MSG.DEPARSE, new TextEncoder().encode(text));
  assert.deepEqual(await c.rows(bigBack.json.sql), [{ big: 9007199254740993n }]);

  // several statements round-trip (as text, for the same reason)
  const twoText = new TextDecoder().decode((await c.request(MSG.PARSE, { sql: 'SELECT 1 AS x; SELECT 2 AS y' })).payload);
  const back = await c.request(MSG.DEPARSE, new TextEncoder().encode(twoText));
  assert.deepEqual(await c.rows(back.json.sql), [{ y: 2 }]);
  assert.match(back.json.sql, /^SELECT 1 AS x;\s*SELECT 2 AS y;?$/);
});


test('errors: syntax with its position, non-SELECT statements, malformed trees and requests', async () => {
  let f = await c.request(MSG.PARSE, { sql: 'SELECT a FROM t WHERE' });
  assert.equal(f.type, MSG.ERROR);
  assert.equal(f.json.code, 'SQL_ERROR');
  assert.match(f.json.message, /syntax error/);
  assert.equal(f.json.position, 'SELECT a FROM t WHERE'.length);

  f = await c.request(MSG.PARSE, { sql: 'INSERT INTO t VALUES (1, 2)' });
  assert.equal(f.json.code, 'UNSUPPORTED');
  assert.match(f.json.message, /Only SELECT/);

  f = await c.request(MSG.PARSE, { query: 'SELECT 1' });
  assert.equal(f.json.code, 'INVALID_ARGUMENT');

  f = await c.request(MSG.DEPARSE, { statements: [{ node: { type: 'NOT_A_NODE' } }] });
  assert.equal(f.type, MSG.ERROR);
  assert.equal(f.json.code, 'INVALID_ARGUMENT');

  f = await c.request(MSG.DEPARSE, { statements: [] });
  assert.equal(f.json.code, 'INVALID_ARGUMENT');

  c.send(MSG.DEPARSE, 999, new TextEncoder().encode('{not json'));
  const bad = await new Promise((resolve) => c.requests.set(999, resolve));
  assert.equal(bad.json.code, 'INVALID_ARGUMENT');

  // the session is unharmed
  assert.deepEqual(await c.rows('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 100 }]);
});
