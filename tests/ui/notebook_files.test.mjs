// Node tests of the workspace's pure modules: the stored document
// (ui/app/doc.js) and notebook files (ui/app/notebook_files.js): exported
// .sql and .ipynb import back to the same cells; plain .sql splits with the
// engine's own lexer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellNameProblem, docText, parseDoc, plainCell } from '../../ui/app/doc.js';
import { fromIpynb, fromSql, toIpynb, toMarkdown, toSql } from '../../ui/app/notebook_files.js';
import { newEngine } from '../wasm/engine_module.mjs';

const CELLS = [
  { type: 'markdown', name: '', source: '# Sales\n\nFirst *look* at the data.\n' },
  { type: 'sql', name: 'orders', source: "CREATE TABLE t AS SELECT 1 AS k;\nSELECT * FROM t -- a comment\n;" },
  { type: 'sql', name: '', source: '' },
  { type: 'sql', name: '', source: "SELECT '```' AS fence,\n\n\n  2 AS two\n" },
  { type: 'markdown', name: '', source: '' },
  { type: 'markdown', name: '', source: '-- looks like a comment\n--\n' },
  { type: 'sql', name: 'last_one', source: 'FROM orders' },
];

test('a notebook exported as .sql imports back to the same cells and title', async () => {
  const text = toSql('Q3 review', CELLS);
  assert.match(text, /^-- mdserver notebook: Q3 review\n-- %% \[markdown\]\n-- # Sales\n--\n/);
  const back = await fromSql(text);
  assert.equal(back.title, 'Q3 review');
  assert.deepEqual(back.cells, CELLS);
});

test('a notebook exported as .ipynb imports back; JupySQL magics are taken off', () => {
  const nb = JSON.parse(toIpynb('Q3', CELLS));
  assert.equal(nb.nbformat, 4);
  assert.equal(nb.cells[1].cell_type, 'code');
  assert.deepEqual(nb.cells[1].metadata, { mdserver: { name: 'orders' } });
  assert.deepEqual(nb.cells[1].source, ['CREATE TABLE t AS SELECT 1 AS k;\n', 'SELECT * FROM t -- a comment\n', ';']);
  assert.deepEqual(fromIpynb(JSON.stringify(nb)), { title: 'Q3', cells: CELLS });
  const jupysql = { nbformat: 4, metadata: {}, cells: [
    { cell_type: 'code', source: ['%%sql duckdb://\n', 'SELECT 1'] },
    { cell_type: 'code', source: '%sql SELECT 2' },
    { cell_type: 'raw', source: 'notes' },
  ] };
  assert.deepEqual(fromIpynb(JSON.stringify(jupysql)).cells, [
    { type: 'sql', name: '', source: 'SELECT 1' },
    { type: 'sql', name: '', source: 'SELECT 2' },
    { type: 'markdown', name: '', source: 'notes' },
  ]);
  assert.throws(() => fromIpynb('{"cells": 5}'), /not a Jupyter notebook/);
  assert.throws(() => fromIpynb('nope'));
});

test('Markdown export keeps Markdown cells and fences SQL with a fence longer than any in it', () => {
  const md = toMarkdown('Q3', CELLS);
  assert.match(md, /^# Q3\n\n# Sales\n/);
  assert.match(md, /\n```sql name=orders\nCREATE TABLE t/);
  assert.match(md, /\n````sql\nSELECT '```' AS fence/);
});

test("a .sql file without markers becomes one cell per statement, split by the engine's lexer", async () => {
  const engine = await newEngine();
  try {
    const statements = (text) => engine.tokens(text).statements;
    const text = "SELECT 'a;b' AS x;\n-- the next one\nCREATE TABLE u(i INT) ;\nSELECT $$;$$\n-- trailing note\n";
    const { title, cells } = await fromSql(text, { statements, title: 'script.sql' });
    assert.equal(title, 'script.sql');
    assert.deepEqual(cells.map((c) => c.source),
      ["SELECT 'a;b' AS x;", '-- the next one\nCREATE TABLE u(i INT) ;', 'SELECT $$;$$\n-- trailing note']);
    assert.deepEqual((await fromSql('', { statements })).cells, [{ type: 'sql', name: '', source: '' }]);
  } finally {
    engine.close();
  }
});

test('the stored document: round trip, defaults, and cell names that SQL can use', () => {
  const cells = CELLS.map((c) => plainCell(c));
  assert.deepEqual(parseDoc(docText(cells)), cells);
  assert.equal(parseDoc('').length, 1);
  assert.throws(() => parseDoc('{"format": 99, "cells": []}'), /format 1/);
  assert.equal(parseDoc('{"format":1,"cells":[{"type":"chart"}]}')[0].type, 'sql');
  assert.equal(cellNameProblem(''), null);
  assert.equal(cellNameProblem('orders_2'), null);
  assert.match(cellNameProblem('2x'), /not starting with a digit/);
  assert.match(cellNameProblem('a b'), /letters, digits/);
  assert.match(cellNameProblem('Orders', ['orders']), /another cell/);
});
