// data_files.js: data files dropped on the workspace (or picked with File ▸
// Add data files): each is registered in duckdb-wasm (the session's
// addFile) and gets a view in the browser's database, memory.main.<name>,
// so it shows in the catalog and queries run in the browser.  A CSV view
// reads the file each time; JSON is imported once into a cache table
// (runtime.js addFile); Parquet is refused with the reason.

import { signal } from '@preact/signals';
import { ident } from '/js/localdb.js';
import { exclusive, session } from './store.js';

/** The last files added: [{file, view, error?}] (the notebook shows what happened). */
export const addedFiles = signal([]);

/** A view name from a file name: its stem, letters, digits and _ only. */
export function viewName(fileName) {
  const stem = fileName.replace(/\.(csv|tsv|txt|json|jsonl|ndjson)(\.gz)?$/i, '');
  const name = stem.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'file';
  return /^[0-9]/.test(name) ? `f_${name}` : name;
}

export async function addDataFiles(files) {
  const out = [];
  for (const file of files) {
    const view = viewName(file.name);
    try {
      const from = await session.peek().addFile(file);
      await exclusive(() => session.peek().run(`CREATE OR REPLACE VIEW memory.main.${ident(view)} AS ${from}`));
      out.push({ file: file.name, view: `memory.main.${view}` });
    } catch (e) {
      out.push({ file: file.name, view: null, error: e.message });
    }
  }
  addedFiles.value = out;
  return out;
}
