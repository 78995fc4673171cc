// CellValue.jsx: one value of a result, whole (the grid cuts long text):
// its text as DuckDB prints it, and for a list, struct or map a tree whose
// branches open on a click, each read from duckdb-wasm when it opens
// (result_views.js value).

import { useEffect, useState } from 'preact/hooks';
import { nestedKind } from '/js/result_sql.js';
import './CellValue.css';

function Node({ panel, row, column, path, label, text, type, known = null }) {
  const [open, setOpen] = useState(!!known);
  const [children, setChildren] = useState(known);
  const [error, setError] = useState(null);
  const expandable = text !== null && nestedKind(type ?? '') !== null;
  const toggle = async () => {
    if (!expandable) return;
    if (!open && !children) {
      try {
        setChildren((await panel.value(row, column, path)).children ?? []);
      } catch (e) {
        setError(e.message);
      }
    }
    setOpen(!open);
  };
  return (
    <li class="value-node" data-testid="value-node" data-key={label}>
      <span class={`value-line${expandable ? ' expandable' : ''}`} onClick={toggle}>
        {expandable ? <span class="value-twisty">{open ? '▾' : '▸'}</span> : <span class="value-twisty" />}
        <span class="value-key">{label}</span>
        <span class={`value-text${text === null ? ' null' : ''}`}>{text === null ? 'NULL' : text}</span>
        {type && <small class="value-type">{type}</small>}
      </span>
      {error && <p class="value-error">{error}</p>}
      {open && children && (
        <ul>
          {children.map((c) => <Node panel={panel} row={row} column={column} path={[...path, c.step]} label={c.key}
            text={c.text} type={c.type} />)}
        </ul>
      )}
    </li>
  );
}

export function CellValue({ panel, row, column, onClose }) {
  const [value, setValue] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    panel.value(row, column).then(setValue, (e) => setError(e.message));
  }, [row, column]);
  useEffect(() => {
    const esc = (e) => { if (e.key === 'Escape') { e.stopPropagation(); onClose(); } };
    window.addEventListener('keydown', esc, true);
    return () => window.removeEventListener('keydown', esc, true);
  }, [onClose]);
  const nested = value && value.text !== null && nestedKind(value.type) !== null;
  return (
    <div class="cell-value" data-testid="cell-value" role="dialog" aria-label={`${column}, row ${row + 1}`}>
      <header>
        <strong>{column}</strong> <span>row {row + 1}</span> {value && <small>{value.type}</small>}
        <button data-testid="cell-value-close" onClick={onClose} title="Close (Esc)">×</button>
      </header>
      {error && <p class="value-error">{error}</p>}
      {!value && !error && <p class="value-loading">reading…</p>}
      {value && !nested && <pre class={`value-whole${value.text === null ? ' null' : ''}`} data-testid="cell-value-text">{value.text ?? 'NULL'}</pre>}
      {value && nested && (
        <ul class="value-tree">
          <Node panel={panel} row={row} column={column} path={[]} label={column} text={value.text} type={value.type}
            known={value.children ?? null} />
        </ul>
      )}
    </div>
  );
}
