// classify.test.mjs: statement kinds and relations through ui/js/engine.js
// (no catalog): FROM-first queries, quoted file names as tables, table
// functions with named arguments and md_run, 1-, 2- and 3-part (quoted)
// names, CTEs, subqueries, joins, set operations, DML and DDL targets,
// management statements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEngine } from './engine_module.mjs';

const engine = await newEngine();

/** "kind VERB | r table a.b; w file x.csv" for the one statement of sql. */
function describe(sql) {
  const { statements } = engine.classify(sql);
  assert.equal(statements.length, 1, sql);
  const st = statements[0];
  const rels = st.relations.map((r) => {
    const access = { read: 'r', write: 'w', read_write: 'rw' }[r.access];
    let s = `${access} ${r.type}`;
    if (r.name) s += ` ${r.name.join('.')}`;
    if (r.path) s += r.name ? `(${r.path})` : ` ${r.path}`;
    if (r.md_run) s += ` !${r.md_run}`;
    if (r.effect) s += ` ${r.effect}`;
    return s;
  });
  return `${st.kind} ${st.verb}${rels.length ? ` | ${rels.join('; ')}` : ''}`;
}

function check(cases) {
  for (const [sql, want] of cases) assert.equal(describe(sql), want, sql);
}

test('FROM-first queries and plain queries', () => {
  check([
    ['FROM t', 'query FROM | r table t'],
    ['FROM t SELECT a, b WHERE a > 1', 'query FROM | r table t'],
    ['FROM a, b SELECT *', 'query FROM | r table a; r table b'],
    ['SELECT 42', 'query SELECT'],
    ['TABLE t', 'query TABLE | r table t'],
  ]);
});

test("quoted file names are tables: FROM 'file.csv'", () => {
  check([
    ["SELECT * FROM 'data/sales.csv'", 'query SELECT | r file data/sales.csv'],
    ["FROM 'a.parquet' JOIN 's3://b/k.parquet' USING (id)", 'query FROM | r file a.parquet; r file s3://b/k.parquet'],
  ]);
});

test('table functions, with named arguments and md_run', () => {
  check([
    ["FROM read_csv('x.csv', header = true, delim => ';')", 'query FROM | r function read_csv(x.csv)'],
    ["FROM read_parquet(['a.parquet', 'b.parquet'])", 'query FROM | r function read_parquet(a.parquet)'],
    ["FROM read_csv('x.csv', md_run => 'local')", 'query FROM | r function read_csv(x.csv) !local'],
    ['FROM range(10) r(i)', 'query FROM | r function range'],
    ["SELECT * FROM generate_series(1, 3, md_run := 'remote')", 'query SELECT | r function generate_series !remote'],
  ]);
  const st = engine.classify("FROM read_csv('x.csv', md_run => 'local', header = true)").statements[0];
  assert.equal(st.sql, "FROM read_csv('x.csv', header = true)", 'md_run is cut from the SQL to run');
  const bad = engine.classify("FROM read_csv('x.csv', md_run => 'moon')").statements[0];
  assert.equal(bad.error.code, 'INVALID_ARGUMENT');
  assert.match(bad.error.message, /md_run must be 'local', 'remote' or 'auto'/);
  assert.equal(bad.error.position, "FROM read_csv('x.csv', md_run => ".length);
});

test('1-, 2- and 3-part names, quoted parts unquoted', () => {
  check([
    ['FROM t', 'query FROM | r table t'],
    ['FROM s.t', 'query FROM | r table s.t'],
    ['FROM "My DB"."my ""s"""."T 1"', 'query FROM | r table My DB.my "s".T 1'],
    ['SELECT * FROM db.main.t AS x', 'query SELECT | r table db.main.t'],
  ]);
  const bad = engine.classify('FROM a.b.c.d').statements[0];
  assert.match(bad.error.message, /at most 3 parts/);
});

test('CTE names are not relations inside their scope; subqueries are scanned', () => {
  check([
    ['WITH a AS (FROM s) SELECT * FROM a JOIN b ON true', 'query SELECT | r table s; r table b'],
    ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) FROM r', 'query SELECT'],
    ['SELECT * FROM (WITH a AS (SELECT 1) FROM a) q, a', 'query SELECT | r table a'],
    ['SELECT (SELECT max(v) FROM s) FROM t WHERE id IN (SELECT id FROM u)', 'query SELECT | r table s; r table t; r table u'],
    ['SELECT extract(year FROM d), x IS DISTINCT FROM y FROM t', 'query SELECT | r table t'],
  ]);
});

test('joins and set operations', () => {
  check([
    ['FROM a LEFT JOIN b ON a.k = b.k, c ASOF JOIN d USING (ts)', 'query FROM | r table a; r table b; r table c; r table d'],
    ['FROM (a JOIN b ON true) CROSS JOIN c', 'query FROM | r table a; r table b; r table c'],
    ['SELECT 1 FROM a UNION ALL SELECT 2 FROM b EXCEPT FROM c', 'query SELECT | r table a; r table b; r table c'],
    ['(FROM a) INTERSECT (FROM b)', 'query SELECT | r table a; r table b'],
  ]);
});

test('DML and DDL targets', () => {
  check([
    ['INSERT INTO t SELECT * FROM s', 'dml INSERT | w table t; r table s'],
    ['INSERT INTO db.s.t (a) VALUES (1)', 'dml INSERT | w table db.s.t'],
    ['UPDATE t SET v = s.v FROM s WHERE t.k = s.k', 'dml UPDATE | rw table t; r table s'],
    ['DELETE FROM t USING s WHERE t.k = s.k', 'dml DELETE | rw table t; r table s'],
    ["COPY t FROM 'in.csv'", 'dml COPY | w table t'],
    ["COPY (FROM s) TO 'out.parquet'", 'dml COPY | r table s'],
    ['CREATE TABLE x AS SELECT * FROM s', 'ddl CREATE TABLE | w table x create; r table s'],
    ["CREATE OR REPLACE VIEW v AS FROM 'f.csv'", 'ddl CREATE VIEW | w table v create; r file f.csv'],
    ['CREATE SCHEMA db.s', 'ddl CREATE SCHEMA | w schema db.s create'],
    ['DROP TABLE IF EXISTS a, b', 'ddl DROP TABLE | w table a drop; w table b drop'],
  ]);
});

test('transactions, ATTACH/DETACH/USE and server management', () => {
  check([
    ['BEGIN TRANSACTION', 'transaction BEGIN'],
    ['COMMIT', 'transaction COMMIT'],
    ["ATTACH 'md:sales' AS s", 'attach ATTACH'],
    ['DETACH s', 'detach DETACH'],
    ['USE my_db.main', 'use USE'],
    ['CREATE DATABASE d FROM my_db', 'server CREATE DATABASE | w database d create; r database my_db'],
    ['DROP DATABASE d', 'server DROP DATABASE | w database d drop'],
    ['CREATE SNAPSHOT nightly OF my_db', 'server CREATE SNAPSHOT | r database my_db'],
    ['CREATE SHARE s FROM my_db (ACCESS UNRESTRICTED)', 'server CREATE SHARE | r database my_db'],
    ['DROP SHARE s', 'server DROP SHARE'],
    ["CREATE SECRET k IN MOTHERDUCK (TYPE s3, KEY_ID 'a')", 'server CREATE SECRET'],
    ["CREATE SECRET k (TYPE s3, KEY_ID 'a')", 'other CREATE SECRET'],
    ['SET threads = 2', 'other SET'],
  ]);
  const st = engine.classify("ATTACH 'md:sales' AS s; USE \"My DB\".s").statements;
  assert.deepEqual(st[0].attach, { path: 'md:sales', alias: 's' });
  assert.deepEqual(st[1].use, { name: ['My DB', 's'] });
});

test('multi-statement input: spans, kinds and the SQL of each statement', () => {
  const sql = "-- lead\nSELECT 'é;' ; /* x */ INSERT INTO t VALUES (1);\nFROM '🦆.csv'";
  const { statements } = engine.classify(sql);
  assert.deepEqual(statements.map((s) => [s.index, s.kind, sql.slice(s.start, s.end), s.sql]), [
    [0, 'query', "SELECT 'é;'", "SELECT 'é;'"],
    [1, 'dml', 'INSERT INTO t VALUES (1)', 'INSERT INTO t VALUES (1)'],
    [2, 'query', "FROM '🦆.csv'", "FROM '🦆.csv'"],
  ]);
  const rel = statements[2].relations[0];
  assert.equal(sql.slice(rel.start, rel.end), "'🦆.csv'");
  assert.equal(rel.path, '🦆.csv');
});
