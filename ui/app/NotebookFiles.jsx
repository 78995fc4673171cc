// NotebookFiles.jsx: the File menu: the open notebook to a file (.sql, .md,
// .ipynb), a file (.sql, .ipynb) to a new notebook (notebook_files.js has
// the formats), and data files added to the browser's database
// (data_files.js).
// A plain .sql script becomes one cell per statement, split by the
// engine's lexer (session.statements).

import { useRef } from 'preact/hooks';
import { fromIpynb, fromSql, toIpynb, toMarkdown, toSql } from './notebook_files.js';
import { addDataFiles } from './data_files.js';
import { createNotebook, current, notebookError } from './notebooks.js';
import { cells, plainOf, session } from './store.js';

const EXPORTS = [
  ['sql', 'SQL script (.sql)', toSql, 'application/sql'],
  ['md', 'Markdown (.md)', toMarkdown, 'text/markdown'],
  ['ipynb', 'Jupyter notebook (.ipynb)', toIpynb, 'application/x-ipynb+json'],
];

/** A file name from a title: letters, digits, - and _ kept. */
const fileBase = (title) => title.trim().replace(/[^\p{L}\p{N}_-]+/gu, '_').replace(/^_+|_+$/g, '') || 'notebook';

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function importFile(file) {
  const text = await file.text();
  const base = file.name.replace(/\.[^.]*$/, '');
  const parsed = /\.ipynb$/i.test(file.name)
    ? fromIpynb(text, { title: base })
    : await fromSql(text, { title: base, statements: (body) => session.peek().statements(body) });
  return createNotebook(parsed.title, parsed.cells);
}

export function NotebookFiles() {
  const input = useRef(null);
  const data = useRef(null);
  const menu = useRef(null);
  const title = current.value?.title ?? 'Scratch';
  const exportAs = (ext, fn, type) => {
    menu.current.open = false;
    download(`${fileBase(title)}.${ext}`, fn(title, cells.peek().map(plainOf)), type);
  };
  return (
    <details class="menu" ref={menu}>
      <summary data-testid="notebook-file-menu">File</summary>
      <div class="menu-items">
        {EXPORTS.map(([ext, label, fn, type]) => (
          <button data-testid={`export-${ext}`} onClick={() => exportAs(ext, fn, type)}>Export as {label}</button>
        ))}
        <button data-testid="import" title="Import a .sql script or a Jupyter notebook as a new notebook"
          onClick={() => { menu.current.open = false; input.current.click(); }}>Import .sql or .ipynb…</button>
        <button data-testid="add-data-files" title="CSV or JSON files become views of the browser's database"
          onClick={() => { menu.current.open = false; data.current.click(); }}>Add data files…</button>
        <input type="file" hidden multiple accept=".csv,.tsv,.txt,.json,.jsonl,.ndjson,.parquet" data-testid="data-file"
          ref={data} onChange={(e) => {
            const files = [...e.currentTarget.files];
            e.currentTarget.value = '';
            if (files.length) addDataFiles(files);
          }} />
        <input type="file" hidden accept=".sql,.ipynb,text/plain,application/json" data-testid="import-file" ref={input}
          onChange={(e) => {
            const f = e.currentTarget.files[0];
            e.currentTarget.value = '';
            if (f) importFile(f).catch((err) => { notebookError.value = `${f.name} was not imported: ${err.message}`; });
          }} />
      </div>
    </details>
  );
}
