// Node tests of the results panel's queries (ui/js/result_views.js over
// ui/js/result_sql.js) on duckdb-wasm's Node build: windows as DuckDB
// prints values, sort, filters, search, the sorted copy, nested values
// and long text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalDb } from '../lib/localwasm.mjs';
import { ResultViews } from '../../build/ui/js/result_views.js';
import { CELL_CHARS } from '../../build/ui/js/result_sql.js';

let local;
let views;
let workDir;

before(async () => {
  // (duckdb-wasm's Node build writes COPY's files into the working directory)
  workDir = mkdtempSync(join(tmpdir(), 'mdtest-views-'));
  process.chdir(workDir);
  local = await openLocalDb();
  await local.query(`CREATE TABLE md_cache.main.r1 AS SELECT range AS id, (range % 7)::INT AS g,
    CASE WHEN range % 5 = 0 THEN NULL WHEN range % 5 = 1 THEN '' ELSE 'name ' || range END AS txt,
    (range * 1.25)::DECIMAL(18,3) AS d, TIMESTAMP '2024-01-01 00:00:00.000001' + INTERVAL (range) SECOND AS ts,
    170141183460469231731687303715884105727::HUGEINT - range AS big
    FROM range(5000)`);
  await local.query(`CREATE TABLE md_cache.main.r2 AS SELECT [1, 2, 3] AS l, {'a': 'x''y', 'b': [10, NULL]} AS s,
    MAP {'k1': 1, 'k2': 2} AS m, repeat('abcdefghij', 100) AS long, NULL::INT[] AS nl`);
  views = new ResultViews(local);
});
after(async () => {
  await local.close();
  rmSync(workDir, { recursive: true, force: true });
});

test('a window shows values as DuckDB prints them: microseconds, DECIMAL, HUGEINT, NULL apart from empty', async () => {
  const v = await views.open({ owner: 'a', table: 'md_cache.main.r1', limit: 3 });
  assert.equal(v.rowCount, 5000);
  assert.deepEqual(v.columns.map((c) => [c.name, c.type, c.kind]), [['id', 'BIGINT', 'number'], ['g', 'INTEGER', 'number'],
    ['txt', 'VARCHAR', 'text'], ['d', 'DECIMAL(18,3)', 'number'], ['ts', 'TIMESTAMP', 'time'], ['big', 'HUGEINT', 'number']]);
  assert.deepEqual(v.rows[0], ['0', '0', null, '0.000', '2024-01-01 00:00:00.000001', '170141183460469231731687303715884105727']);
  assert.equal(v.rows[1][2], '');
  const w = await views.window({ view: v.view, offset: 4998, limit: 10 });
  assert.deepEqual(w.rows.map((r) => r[0]), ['4998', '4999']);
});

test('sort by several columns, ties in the result order; deep windows read the sorted copy', async () => {
  const v = await views.open({ owner: 'a', table: 'md_cache.main.r1', view: { sort: [['g', 'desc'], ['id', 'asc']] }, limit: 3 });
  assert.deepEqual(v.rows.map((r) => [r[1], r[0]]), [['6', '6'], ['6', '13'], ['6', '20']]);
  const deep = await views.window({ view: v.view, offset: 4997, limit: 5 });
  assert.deepEqual(deep.rows.map((r) => [r[1], r[0]]), [['0', '4984'], ['0', '4991'], ['0', '4998']]);
  const direct = await local.rows('SELECT id FROM md_cache.main.r1 ORDER BY g DESC, id LIMIT 10 OFFSET 2500');
  const mid = await views.window({ view: v.view, offset: 2500, limit: 10 });
  assert.deepEqual(mid.rows.map((r) => r[0]), direct.map((r) => String(r[0])));
});

test('filters of every kind, and the search box', async () => {
  const count = async (filter, search = '') => (await views.open({ owner: 'b', table: 'md_cache.main.r1', view: { filter, search }, limit: 1 })).rowCount;
  assert.equal(await count([['g', '==', 3]]), 714);
  assert.equal(await count([['id', '>=', '100'], ['id', '<', 200]]), 100);
  assert.equal(await count([['txt', 'is null', null]]), 1000);
  assert.equal(await count([['txt', 'is not null', null]]), 4000);
  assert.equal(await count([['txt', '==', '']]), 1000);
  // 'name 12', 'name 12x', 'name 12xx': 111, less the 44 of them that are NULL or '' (id % 5 is 0 or 1)
  assert.equal(await count([['txt', 'contains', 'NAME 12']]), 67);
  assert.equal(await count([['txt', 'regex', '^name 4[0-9]$']]), 6);
  assert.equal(await count([['g', 'in', [1, 2]]]), 1429);
  assert.equal(await count([['g', 'not in', ['1', '2']]]), 5000 - 1429);
  assert.equal(await count([['ts', '<', '2024-01-01 00:00:10']]), 10);
  assert.equal(await count([['d', '>', '6248.000']]), 1);
  assert.equal(await count([['txt', 'contains', '%']]), 0); // a pattern character is a character
  assert.equal(await count([], 'NAME 4999'), 1);
  await assert.rejects(views.open({ owner: 'b', table: 'md_cache.main.r1', view: { filter: [['nope', '==', 1]] } }), /no column nope/);
  await assert.rejects(views.open({ owner: 'b', table: 'md_cache.main.r1; DROP TABLE x' }), /not a cached result/);
});

test('nested values expand: lists, structs, maps; long text is cut and read whole on demand', async () => {
  const v = await views.open({ owner: 'c', table: 'md_cache.main.r2' });
  const [row] = v.rows;
  assert.deepEqual(row.slice(0, 3), ['[1, 2, 3]', "{'a': 'x\\'y', 'b': [10, NULL]}", '{k1=1, k2=2}']);
  assert.equal(row[3].length, CELL_CHARS + 1);
  assert.equal((await views.value({ view: v.view, row: 0, column: 'long' })).text.length, 1000);
  const list = await views.value({ view: v.view, row: 0, column: 'l' });
  assert.deepEqual(list.children.map((c) => [c.key, c.text, c.type]), [['1', '1', 'INTEGER'], ['2', '2', 'INTEGER'], ['3', '3', 'INTEGER']]);
  const s = await views.value({ view: v.view, row: 0, column: 's' });
  assert.deepEqual(s.children.map((c) => [c.key, c.text]), [['a', "x'y"], ['b', '[10, NULL]']]);
  const b = await views.value({ view: v.view, row: 0, column: 's', path: [s.children[1].step] });
  assert.deepEqual(b.children.map((c) => c.text), ['10', null]);
  const m = await views.value({ view: v.view, row: 0, column: 'm' });
  assert.deepEqual(m.children.map((c) => [c.key, c.text]), [['k1', '1'], ['k2', '2']]);
  const nl = await views.value({ view: v.view, row: 0, column: 'nl' });
  assert.equal(nl.text, null);
  assert.equal(nl.children, undefined);
});

test('a closed view answers NOT_FOUND; a new view of the same panel closes the old one', async () => {
  const v1 = await views.open({ owner: 'd', table: 'md_cache.main.r1', view: { sort: [['txt', 'asc']] } });
  const v2 = await views.open({ owner: 'd', table: 'md_cache.main.r1' });
  await assert.rejects(views.window({ view: v1.view, offset: 0, limit: 1 }), (e) => e.code === 'NOT_FOUND');
  assert.equal((await views.window({ view: v2.view, offset: 0, limit: 1 })).rows.length, 1);
  await views.closeTable('md_cache.main.r1');
  await assert.rejects(views.window({ view: v2.view, offset: 0, limit: 1 }), (e) => e.code === 'NOT_FOUND');
  const left = await local.rows("SELECT table_name FROM duckdb_tables() WHERE database_name = 'md_cache' AND table_name LIKE 'v%'");
  assert.deepEqual(left, []);
});

test('a column profile: rows, nulls, distinct, range and histogram, or the top values; details', async () => {
  const v = await views.open({ owner: 'p', table: 'md_cache.main.r1' });
  const g = await views.profile({ view: v.view, column: 'g' });
  assert.equal(Number(g.n), 5000);
  assert.equal(Number(g.nn), 5000);
  assert.equal(g.lo_text, '0');
  assert.equal(g.hi_text, '6');
  assert.equal(g.bins.reduce((s, b) => s + Number(b.k), 0), 5000);
  const t = await views.profile({ view: v.view, column: 'txt' });
  assert.equal(Number(t.nn), 4000);
  assert.deepEqual(t.top.slice(0, 2).map((x) => [x.v, Number(x.k)]), [['', 1000], [null, 1000]]);
  const d = await views.profile({ view: v.view, column: 'id', detail: true });
  assert.equal(d.mean, '2499.5');
  assert.equal(d.quantiles.length, 5);
  assert.ok(Math.abs(Number(d.quantiles[2]) - 2500) < 100, d.quantiles[2]);
  const ts = await views.profile({ view: v.view, column: 'ts' });
  assert.equal(ts.lo_text, '2024-01-01 00:00:00.000001');
  // over the view's filter
  const f = await views.open({ owner: 'p', table: 'md_cache.main.r1', view: { filter: [['g', '==', 3]] } });
  assert.equal(Number((await views.profile({ view: f.view, column: 'g' })).n), 714);
});

test('export: CSV, TSV and Arrow of the whole result or of the view as filtered and sorted', async () => {
  const v = await views.open({ owner: 'e', table: 'md_cache.main.r1', view: { filter: [['id', '<', 3]], sort: [['id', 'desc']] } });
  const text = (bytes) => new TextDecoder().decode(bytes);
  const csv = text(await views.export({ view: v.view, format: 'csv', scope: 'view' })).trim().split('\n');
  assert.equal(csv[0], 'id,g,txt,d,ts,big');
  assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]), ['2', '1', '0']);
  assert.equal(csv[3].split(',')[5], '170141183460469231731687303715884105727');
  const tsv = text(await views.export({ view: v.view, format: 'tsv', scope: 'all' })).trim().split('\n');
  assert.equal(tsv.length, 5001);
  assert.equal(tsv[1].split('\t')[4], '2024-01-01 00:00:00.000001');
  const arrow = await views.export({ view: v.view, format: 'arrow', scope: 'view' });
  assert.equal(text(arrow.subarray(0, 6)), 'ARROW1');
  await assert.rejects(views.export({ view: v.view, format: 'parquet' }), (e) => e.code === 'UNSUPPORTED');
});
