// table_summary.js: what the inspector shows of a table or view, read at
// its own site in one script (the router places each statement where the
// table is): SUMMARIZE (type, rows, null share, approximate distinct count
// per column), the first 100 rows, and its DDL from duckdb_tables() /
// duckdb_views() of that site (md_run).  The results' cache tables are
// dropped once read.

import { signal } from '@preact/signals';
import { ident, literal } from '/js/localdb.js';
import { exclusive, selected, session } from './store.js';

/** {name, state: 'loading'|'ready'|'error', rows, columns: [{name, type, nullPercent, distinct}], preview, ddl, error} */
export const summary = signal(null);

/** The qualified, quoted name of a catalog selection. */
export const qualified = (s) => [s.database, s.schema, s.table.name].map(ident).join('.');

function script(s) {
  const q = qualified(s);
  const where = `database_name = ${literal(s.database)} AND schema_name = ${literal(s.schema)}`;
  const site = literal(s.site === 'local' ? 'local' : 'remote');
  return [
    `SUMMARIZE ${q}`,
    `SELECT * FROM ${q} LIMIT 100`,
    `SELECT sql FROM duckdb_tables(md_run => ${site}) WHERE ${where} AND table_name = ${literal(s.table.name)} `
      + `UNION ALL SELECT sql FROM duckdb_views(md_run => ${site}) WHERE ${where} AND view_name = ${literal(s.table.name)}`,
  ].join(';\n');
}

const num = (v) => (v === null || v === undefined ? null : Number(v));

/** Read the summary of the selected table (a newer selection wins). */
export async function summarize(s = selected.peek()) {
  if (!s) return;
  summary.value = { name: s.name, state: 'loading' };
  try {
    const out = await exclusive(() => session.peek().run(script(s), {}, { keep: 'none' }));
    if (selected.peek()?.name !== s.name) return;
    const [stats, preview, ddl] = out.results;
    summary.value = {
      name: s.name,
      state: 'ready',
      rows: num(stats.rows[0]?.count) ?? 0,
      columns: stats.rows.map((r) => ({
        name: r.column_name, type: r.column_type, nullPercent: num(r.null_percentage), distinct: num(r.approx_unique),
      })),
      preview,
      ddl: ddl.rows.map((r) => r.sql).filter(Boolean).join('\n') || null,
    };
  } catch (e) {
    if (selected.peek()?.name === s.name) summary.value = { name: s.name, state: 'error', error: e.message };
  }
}
