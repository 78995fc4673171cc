// ExportMenu.jsx: a cached result out of the panel: as a file (CSV, TSV,
// Arrow IPC made by duckdb-wasm in the browser; Parquet and JSON by the
// server's DuckDB, server_export.js; the whole result or the grid's view as
// filtered and sorted), or saved as a table: in the
// browser's database, or on the server (the rows go up through the upload
// path of dual execution: the statement reads the browser's cache and
// writes a server table).

import { useState } from 'preact/hooks';
import { ident } from '/js/localdb.js';
import { fmtBytes } from '/js/rows.js';
import { exclusive, refreshCatalog, session } from './store.js';
import './ExportMenu.css';

const FORMATS = [['csv', 'CSV', 'text/csv'], ['tsv', 'TSV', 'text/tab-separated-values'],
  ['arrow', 'Arrow IPC', 'application/vnd.apache.arrow.file'], ['parquet', 'Parquet', 'application/vnd.apache.parquet'],
  ['json', 'JSON', 'application/json']];

function download(bytes, name, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** The SQL that saves `table` (md_cache.main.rN) as `name` in the browser's database or the server's current one. */
export function saveSql(table, name, where) {
  const target = where === 'browser' ? `memory.main.${ident(name)}` : ident(name);
  return `CREATE TABLE ${target} AS SELECT * FROM ${table.split('.').map(ident).join('.')}`;
}

export function ExportMenu({ cell, panel }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState(null);
  const [name, setName] = useState('');
  const st = panel.state.value;
  const stem = cell.name.value || 'result';

  const exportAs = async (format, label, type, scope) => {
    setNote(`exporting ${label}…`);
    try {
      const bytes = await session.peek().panel({ op: 'export', view: st.view, format, scope });
      download(bytes, `${stem}.${format}`, type);
      setNote(`exported ${label}, ${fmtBytes(bytes.length)}`);
    } catch (e) {
      setNote(e.message);
    }
  };
  const save = async (where) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) { setNote('a table name is letters, digits and _, not starting with a digit'); return; }
    setNote(`saving ${name}…`);
    try {
      await exclusive(() => session.peek().run(saveSql(st.table, name, where), {}, { keep: 'none' }));
      await refreshCatalog();
      setNote(`saved as ${where === 'browser' ? `memory.main.${name}` : name}${where === 'server' ? ' on the server' : ' in the browser'}`);
    } catch (e) {
      setNote(e.message);
    }
  };
  return (
    <span class="export">
      <button data-testid="export" aria-expanded={open} onClick={() => setOpen(!open)} disabled={st.state !== 'ready'}>Export ▾</button>
      {note && <span class="export-note" data-testid="export-note">{note}</span>}
      {open && (
        <div class="export-menu" data-testid="export-menu" onKeyDown={(e) => { if (e.key === 'Escape') setOpen(false); e.stopPropagation(); }}>
          {[['all', 'Whole result'], ['view', 'As filtered and sorted']].map(([scope, title]) => (
            <section>
              <h5>{title}</h5>
              {FORMATS.map(([format, label, type]) => (
                <button data-testid="export-item" data-format={format} data-scope={scope}
                  onClick={() => { setOpen(false); exportAs(format, label, type, scope); }}>{label}</button>
              ))}
            </section>
          ))}
          <section>
            <h5>Save as a table</h5>
            <input data-testid="save-name" placeholder="table name" value={name} spellcheck={false}
              onInput={(e) => setName(e.currentTarget.value.trim())} />
            <button data-testid="save-browser" onClick={() => { setOpen(false); save('browser'); }}>In the browser</button>
            <button data-testid="save-server" onClick={() => { setOpen(false); save('server'); }}>On the server</button>
          </section>
          <p class="export-foot">CSV, TSV and Arrow are made in the browser; Parquet and JSON by the server's DuckDB (the rows go up and the file comes back).</p>
        </div>
      )}
    </span>
  );
}
