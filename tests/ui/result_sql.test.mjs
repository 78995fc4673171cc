// Node tests of what the results panel's filter boxes mean
// (ui/js/result_sql.js parseFilterText) and how a state shows back in them
// (filterText): each kind of column, and the round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { condition, filterText, parseFilterText } from '../../build/ui/js/result_sql.js';

test('what is typed in a filter box, by the column\'s kind', () => {
  assert.deepEqual(parseFilterText('n', 'number', '1..10'), [['n', '>=', '1'], ['n', '<=', '10']]);
  assert.deepEqual(parseFilterText('n', 'number', '>= 5'), [['n', '>=', '5']]);
  assert.deepEqual(parseFilterText('n', 'number', '3, 4'), [['n', 'in', ['3', '4']]]);
  assert.deepEqual(parseFilterText('n', 'number', '7'), [['n', '==', '7']]);
  assert.deepEqual(parseFilterText('t', 'text', 'duck'), [['t', 'contains', 'duck']]);
  assert.deepEqual(parseFilterText('t', 'text', '/^d.*k$/'), [['t', 'regex', '^d.*k$']]);
  assert.deepEqual(parseFilterText('t', 'text', '=a, b'), [['t', 'in', ['a', 'b']]]);
  assert.deepEqual(parseFilterText('t', 'text', '=a'), [['t', '==', 'a']]);
  assert.deepEqual(parseFilterText('t', 'text', 'null'), [['t', 'is null', null]]);
  assert.deepEqual(parseFilterText('t', 'text', '!null'), [['t', 'is not null', null]]);
  assert.deepEqual(parseFilterText('d', 'time', '2024-01-01..2024-02-01'), [['d', '>=', '2024-01-01'], ['d', '<=', '2024-02-01']]);
  assert.deepEqual(parseFilterText('t', 'text', '  '), []);
});

test('a filter state shows back as what parses to it', () => {
  for (const [col, kind, text] of [['n', 'number', '1..10'], ['n', 'number', '3, 4'], ['t', 'text', '=a, b'],
    ['t', 'text', '/x+/'], ['t', 'text', 'duck'], ['t', 'text', 'null'], ['n', 'number', '>5']]) {
    const filters = parseFilterText(col, kind, text);
    assert.deepEqual(parseFilterText(col, kind, filterText(col, filters, kind)), filters, text);
  }
});

test('conditions quote names and values; a LIKE pattern character is a character', () => {
  assert.equal(condition(['we"ird', '==', "it's"]), `"we""ird" = 'it''s'`);
  assert.match(condition(['t', 'contains', '50%']), /'50\\%'/);
  assert.throws(() => condition(['t', 'drop table', 1]), /unknown filter operator/);
});
