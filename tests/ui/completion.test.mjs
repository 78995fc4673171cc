// Node tests of the editor's completion (ui/app/completion.js) on a
// catalog of both sites: what is offered after a dot, after FROM, and
// elsewhere; aliases; quoting; a catalog of 20,000 names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeAt } from '../../ui/app/completion.js';

const CATALOG = {
  databases: [
    { name: 'my_db', site: 'remote', schemas: [
      { name: 'main', tables: [
        { name: 'orders', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'amount', type: 'DECIMAL(18,2)' }] },
        { name: 'Mixed Case', columns: [{ name: 'Weird Col', type: 'VARCHAR' }] },
      ] },
      { name: 'staging', tables: [{ name: 'raw_orders', columns: [{ name: 'payload', type: 'JSON' }] }] },
    ] },
    { name: 'memory', site: 'local', schemas: [{ name: 'main', tables: [{ name: 'pets', view: true, columns: [{ name: 'kind', type: 'VARCHAR' }] }] }] },
  ],
};
const WORDS = { keywords: ['select', 'from'], types: ['integer'], functions: [{ name: 'sum', parameters: 'arg', returns: 'DECIMAL', description: 'Calculates the sum' }] };

/** Labels offered at the | of `text`. */
function labels(text, opts) {
  const pos = text.indexOf('|');
  const r = completeAt(text.replace('|', ''), pos, CATALOG, WORDS, opts);
  return r ? { from: r.from, labels: r.options.map((o) => o.label), options: r.options } : null;
}

test('after FROM and JOIN: tables and views of both sites and the databases', () => {
  const r = labels('SELECT * FROM or|');
  assert.equal(r.from, 14);
  assert.deepEqual(r.labels.sort(), ['Mixed Case', 'memory', 'my_db', 'orders', 'pets', 'raw_orders']);
  assert.equal(r.options.find((o) => o.label === 'Mixed Case').apply, '"Mixed Case"');
  assert.match(r.options.find((o) => o.label === 'pets').detail, /memory\.main · browser/);
  assert.deepEqual(labels('SELECT 1 FROM orders o JOIN |', { explicit: true }).labels.length, 6);
});

test('after a dot: schemas and tables of a database, tables of a schema, columns of an alias or table', () => {
  assert.deepEqual(labels('SELECT * FROM my_db.|').labels, ['main', 'staging', 'orders', 'Mixed Case']);
  assert.deepEqual(labels('SELECT * FROM my_db.staging.r|').labels, ['raw_orders']);
  assert.deepEqual(labels('SELECT * FROM staging.|').labels, ['raw_orders']);
  assert.deepEqual(labels('SELECT o.| FROM my_db.main.orders AS o').labels, ['id', 'amount']);
  assert.deepEqual(labels('SELECT p.k| FROM orders o JOIN pets p ON true').labels, ['kind']);
  assert.deepEqual(labels('SELECT orders.| FROM orders').labels, ['id', 'amount']);
  assert.deepEqual(labels('SELECT m.| FROM "Mixed Case" m').options.map((o) => o.apply), ['"Weird Col"']);
});

test("elsewhere: the statement's columns first, then tables, functions with signature and description, keywords, types", () => {
  const r = labels('SELECT a| FROM orders');
  assert.deepEqual(r.labels.slice(0, 2), ['id', 'amount']);
  const sum = r.options.find((o) => o.label === 'sum');
  assert.equal(sum.type, 'function');
  assert.equal(sum.detail, '(arg) → DECIMAL');
  assert.equal(sum.info, 'Calculates the sum');
  assert.ok(r.labels.includes('SELECT') && r.labels.includes('INTEGER'));
  assert.equal(labels('SELECT |'), null, 'nothing before a word unless asked');
});

test('20,000 catalog names are all offered after FROM (the benchmark times it in Chromium)', () => {
  const big = { databases: [{ name: 'big', site: 'remote', schemas: Array.from({ length: 20 }, (_, s) => ({
    name: `s${s}`, tables: Array.from({ length: 1000 }, (_, t) => ({ name: `t_${s}_${t}`, columns: [{ name: 'c', type: 'INT' }] })),
  })) }] };
  const r = completeAt('SELECT * FROM t_1', 17, big, WORDS);
  assert.equal(r.options.length, 20001);
  assert.equal(r.from, 14);
});
