// sql_words.js: DuckDB's own words for the editor (completion.js), read
// once per session from duckdb-wasm (md_run => 'local'): its keywords
// (duckdb_keywords()), functions with a signature and description
// (duckdb_functions(), one per name) and types (duckdb_types()).  Each list
// comes back as one text (string_agg), so no result is cut at the rows a
// result keeps for display.

import { signal } from '@preact/signals';
import { exclusive, session } from './store.js';

/** {keywords: [...], types: [...], functions: [{name, parameters, returns, description}]}, or null until read. */
export const sqlWords = signal(null);

const SEP = 'chr(30)'; // between entries; fields of a function are split by chr(31)

const SCRIPT = [
  `SELECT string_agg(DISTINCT keyword_name, ${SEP}) AS w FROM duckdb_keywords(md_run => 'local')`,
  `SELECT string_agg(DISTINCT type_name, ${SEP}) AS w FROM duckdb_types(md_run => 'local') WHERE NOT starts_with(type_name, '_')`,
  `SELECT string_agg(concat_ws(chr(31), function_name, array_to_string(parameters, ', '), coalesce(return_type, ''),
     coalesce(description, '')), ${SEP}) AS w
   FROM (SELECT DISTINCT ON (function_name) function_name, parameters, return_type, description
         FROM duckdb_functions(md_run => 'local')
         WHERE regexp_full_match(function_name, '[a-z][a-z0-9_]*') AND function_type IN ('scalar', 'aggregate', 'table', 'macro', 'table_macro')
         ORDER BY function_name, description NULLS LAST)`,
].join(';\n');

const split = (text) => (text ? text.split('\x1e') : []);

export async function loadSqlWords() {
  const out = await exclusive(() => session.peek().run(SCRIPT));
  const [k, t, f] = out.results.map((r) => r.rows[0]?.w ?? '');
  sqlWords.value = {
    keywords: split(k).sort(),
    types: split(t).sort(),
    functions: split(f).map((line) => {
      const [name, parameters, returns, description] = line.split('\x1f');
      return { name, parameters, returns, description };
    }),
  };
}
