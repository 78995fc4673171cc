// lexer.test.mjs: the WASM engine's lexer and statement splitter through
// ui/js/engine.js: tricky quoting, comments, dollar quotes, multi-statement
// input, and positions as indices into the JavaScript string (non-ASCII text
// before them included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MdError } from '../../build/ui/js/errors.js';
import { newEngine } from './engine_module.mjs';

const engine = await newEngine();

const kinds = (sql, opts) => engine.tokens(sql, opts).tokens.map((t) => [t.type, t.text]);

test('quoted strings, escape strings and quoted identifiers are one token each', () => {
  assert.deepEqual(kinds(`SELECT 'it''s; -- not a comment', E'a\\'b;', "we""ird;name" FROM t`), [
    ['keyword', 'SELECT'], ['string', `'it''s; -- not a comment'`], ['punctuation', ','],
    ['string', `E'a\\'b;'`], ['punctuation', ','], ['quoted_identifier', '"we""ird;name"'],
    ['keyword', 'FROM'], ['identifier', 't'],
  ]);
});

test('dollar quotes, with and without a tag, and parameters', () => {
  assert.deepEqual(kinds('SELECT $$a;$b$$, $fn$ $$ ; $fn$, $1, $name, ?'), [
    ['keyword', 'SELECT'], ['dollar_string', '$$a;$b$$'], ['punctuation', ','],
    ['dollar_string', '$fn$ $$ ; $fn$'], ['punctuation', ','], ['parameter', '$1'], ['punctuation', ','],
    ['parameter', '$name'], ['punctuation', ','], ['parameter', '?'],
  ]);
});

test('comments: -- to end of line and nested block comments, kept on request', () => {
  const sql = 'SELECT /* a /* b; */ c; */ 1 -- x; y\n;';
  assert.deepEqual(kinds(sql), [['keyword', 'SELECT'], ['number', '1'], ['semicolon', ';']]);
  assert.deepEqual(kinds(sql, { comments: true }).map((t) => t[0]),
    ['keyword', 'comment', 'number', 'comment', 'semicolon']);
});

test('keywords are recognised in any case and flagged reserved or not', () => {
  const toks = engine.tokens('select Data from T').tokens;
  assert.equal(toks[0].keyword, 'SELECT');
  assert.equal(toks[0].reserved, true);
  assert.equal(toks[1].keyword, 'DATA');
  assert.equal(toks[1].reserved, false);
  assert.equal(toks[3].type, 'identifier');
});

test('statements split on ; outside strings, identifiers, comments and dollar quotes', () => {
  const sql = ";; SELECT ';' AS \"a;b\" /* ; */; -- ;\nSELECT $x$;$x$ ;\n\n; FROM t;";
  const spans = engine.tokens(sql).statements.map((s) => sql.slice(s.start, s.end));
  assert.deepEqual(spans, [`SELECT ';' AS "a;b"`, 'SELECT $x$;$x$', 'FROM t']);
});

test('positions are JavaScript string indices, also after non-ASCII text', () => {
  const sql = "SELECT 'héllo 🦆', \"ünï\" FROM t🦆x";
  const toks = engine.tokens(sql).tokens;
  for (const t of toks) assert.equal(sql.slice(t.start, t.end), t.text);
  assert.deepEqual(toks.map((t) => t.text), ['SELECT', "'héllo 🦆'", ',', '"ünï"', 'FROM', 't🦆x']);
  assert.equal(toks[4].start, sql.indexOf('FROM'));
});

test('an unterminated string, identifier, comment or dollar quote throws with its position', () => {
  const cases = [
    ["SELECT 1; SELECT 'é🦆", /unterminated quoted string/, 17],
    ['SELECT "col', /unterminated quoted identifier/, 7],
    ['SELECT 1 /* a /* b */', /unterminated \/\* comment/, 9],
    ['SELECT $t$ body $$', /dollar-quoted/, 7],
  ];
  for (const [sql, message, position] of cases) {
    assert.throws(() => engine.tokens(sql), (err) => {
      assert.ok(err instanceof MdError);
      assert.equal(err.code, 'SQL_ERROR');
      assert.match(err.message, message);
      assert.equal(err.position, position, sql);
      return true;
    });
  }
});

test('a text larger than the 5 MiB stack passes through heap buffers', () => {
  const big = 'x'.repeat(6 * 1024 * 1024);
  const sql = `SELECT '${big}' AS v; SELECT 2`;
  const out = engine.tokens(sql);
  assert.equal(out.tokens.length, 7);
  assert.equal(out.tokens[1].text.length, big.length + 2);
  assert.equal(out.statements.length, 2);
});
