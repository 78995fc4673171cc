// completion.js: what the SQL editor offers as you type, from both
// catalogs (the engine's cache: databases, schemas, tables, views and
// columns of the server and of the browser, a named cell's result among
// them) and DuckDB's own words (keywords, functions with their signature
// and description, types: sql_words.js reads them from duckdb-wasm).
//
//   db.  schema.  db.schema.   the schemas or tables under it
//   alias.  table.             the columns of the table the FROM/JOIN
//                              clause binds that name to
//   after FROM, JOIN, INTO, UPDATE, TABLE, DESCRIBE, SUMMARIZE: tables,
//                              views and databases
//   anywhere else              the columns of the statement's tables,
//                              tables, functions, keywords, types
//
// completeAt is pure (a Node test and the benchmark call it); the option
// lists of a catalog are built once per catalog object.

const WORD = /[\w$]+$/;
const AFTER_RELATION = /\b(from|join|into|update|table|describe|summarize)\s+$/i;
// a relation of a FROM or JOIN clause and its alias: FROM a.b.c AS x, JOIN t y
const RELATION = /\b(?:from|join)\s+((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+)){0,2})(?:\s+(?:as\s+)?("[^"]+"|[\w$]+))?/gi;
const NOT_ALIAS = new Set(['where', 'join', 'on', 'using', 'left', 'right', 'inner', 'outer', 'full', 'cross', 'natural',
  'group', 'order', 'limit', 'union', 'except', 'intersect', 'window', 'qualify', 'having', 'positional', 'asof',
  'semi', 'anti', 'lateral', 'offset', 'select', 'pivot', 'unpivot', 'sample', 'tablesample', 'returning', 'set']);

const unquote = (s) => (s.startsWith('"') ? s.slice(1, -1).replaceAll('""', '"') : s);
const eq = (a, b) => a.toLowerCase() === b.toLowerCase();
/** A name as SQL needs it written: bare when it is a plain lower-case identifier. */
const sqlName = (n) => (/^[a-z_][a-z0-9_$]*$/.test(n) ? n : `"${n.replaceAll('"', '""')}"`);

const byCatalog = new WeakMap();

/** The catalog's option lists, built once per catalog object. */
function indexOf(catalog) {
  let ix = byCatalog.get(catalog);
  if (ix) return ix;
  const databases = catalog?.databases ?? [];
  const relations = [];
  const dbOptions = [];
  for (const db of databases) {
    dbOptions.push({ label: db.name, apply: sqlName(db.name), type: 'namespace', detail: `${db.site === 'local' ? 'browser' : 'server'} database` });
    for (const s of db.schemas ?? []) {
      for (const t of s.tables ?? []) {
        relations.push({ label: t.name, apply: sqlName(t.name), type: t.view ? 'interface' : 'class',
          detail: `${db.name}.${s.name} · ${db.site === 'local' ? 'browser' : 'server'}` });
      }
    }
  }
  ix = { databases, relations, dbOptions };
  byCatalog.set(catalog, ix);
  return ix;
}

/** The tables a (possibly qualified) name may mean: [{db, schema, table}]. */
function findTables(databases, parts) {
  const out = [];
  for (const db of databases) {
    if (parts.length === 3 && !eq(db.name, parts[0])) continue;
    for (const s of db.schemas ?? []) {
      if (parts.length >= 2 && !eq(s.name, parts[parts.length - 2])) continue;
      for (const t of s.tables ?? []) if (eq(t.name, parts.at(-1))) out.push({ db, schema: s, table: t });
    }
  }
  return out;
}

/** alias (or table name) -> the parts of the relation it stands for, from the FROM/JOIN clauses of `text`. */
function bindings(text) {
  const map = new Map();
  for (const m of text.matchAll(RELATION)) {
    const parts = m[1].split(/\s*\.\s*/).map(unquote);
    map.set(parts.at(-1).toLowerCase(), parts);
    if (m[2] && !NOT_ALIAS.has(m[2].toLowerCase())) map.set(unquote(m[2]).toLowerCase(), parts);
  }
  return map;
}

const columnOptions = (found) => found.flatMap(({ table, db, schema }) => (table.columns ?? []).map((c) => ({
  label: c.name, apply: sqlName(c.name), type: 'property', detail: `${c.type} · ${db.name}.${schema.name}.${table.name}`,
})));

/** What follows `prefix.` (the parts before the dot). */
function dotted(ix, prefix, text) {
  const { databases } = ix;
  const bound = prefix.length === 1 ? bindings(text).get(prefix[0].toLowerCase()) : null;
  const options = [];
  if (bound) options.push(...columnOptions(findTables(databases, bound)));
  if (prefix.length === 1) {
    for (const db of databases.filter((d) => eq(d.name, prefix[0]))) {
      for (const s of db.schemas ?? []) options.push({ label: s.name, apply: sqlName(s.name), type: 'namespace', detail: `schema of ${db.name}` });
      const main = (db.schemas ?? []).find((s) => eq(s.name, 'main'));
      for (const t of main?.tables ?? []) options.push({ label: t.name, apply: sqlName(t.name), type: t.view ? 'interface' : 'class', detail: `${db.name}.main` });
    }
    for (const db of databases) {
      for (const s of (db.schemas ?? []).filter((x) => eq(x.name, prefix[0]))) {
        for (const t of s.tables ?? []) options.push({ label: t.name, apply: sqlName(t.name), type: t.view ? 'interface' : 'class', detail: `${db.name}.${s.name}` });
      }
    }
  } else if (prefix.length === 2) {
    for (const db of databases.filter((d) => eq(d.name, prefix[0]))) {
      for (const s of (db.schemas ?? []).filter((x) => eq(x.name, prefix[1]))) {
        for (const t of s.tables ?? []) options.push({ label: t.name, apply: sqlName(t.name), type: t.view ? 'interface' : 'class', detail: `${db.name}.${s.name}` });
      }
    }
  }
  if (!bound) options.push(...columnOptions(findTables(databases, prefix))); // table.column
  return options;
}

/** DuckDB's words as options, built once per word list. */
const byWords = new WeakMap();
function wordOptions(words) {
  if (!words) return [];
  let o = byWords.get(words);
  if (!o) {
    o = [
      ...words.functions.map((f) => ({
        label: f.name, type: 'function', detail: `(${f.parameters})${f.returns ? ` → ${f.returns}` : ''}`,
        info: f.description || undefined, boost: -1,
      })),
      ...words.keywords.map((k) => ({ label: k.toUpperCase(), type: 'keyword', boost: -2 })),
      ...words.types.map((t) => ({ label: t.toUpperCase(), type: 'type', boost: -3 })),
    ];
    byWords.set(words, o);
  }
  return o;
}

/**
 * Completions at offset `pos` of `text`: {from, options} (CodeMirror's
 * shape; it filters and ranks the options by the word typed), or null.
 * `explicit`: asked for (Ctrl+Space), so offered even before a word.
 */
export function completeAt(text, pos, catalog, words, { explicit = false } = {}) {
  const before = text.slice(0, pos);
  const qualified = before.match(/((?:(?:"[^"]*"|[\w$]+)\s*\.\s*)+)([\w$]*)$/);
  const ix = indexOf(catalog);
  if (qualified) {
    const prefix = qualified[1].split('.').map((p) => p.trim()).filter(Boolean).map(unquote);
    return { from: pos - qualified[2].length, options: dotted(ix, prefix, text) };
  }
  const word = before.match(WORD)?.[0] ?? '';
  if (!word && !explicit) return null;
  const from = pos - word.length;
  const lead = before.slice(0, from);
  if (AFTER_RELATION.test(lead)) return { from, options: [...ix.relations, ...ix.dbOptions] };
  const inStatement = [...bindings(text).values()].flatMap((parts) => findTables(ix.databases, parts));
  return { from, options: [...columnOptions(inStatement), ...ix.relations, ...ix.dbOptions, ...wordOptions(words)] };
}
