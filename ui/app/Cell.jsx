// Cell.jsx: one SQL cell: editor, run button, status (where it ran, rows,
// time), progress, the error with its position, the first rows.

import { SqlEditor } from './SqlEditor.jsx';
import { ResultTable } from './ResultTable.jsx';
import { addCell, cells, focusedCell, runCell } from './store.js';
import './Cell.css';

const fmtInt = new Intl.NumberFormat('en-US');
const rows = (n) => `${fmtInt.format(n)} row${n === 1 ? '' : 's'}`;
const fmtMs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

/** Run `cell`, then focus the next cell (a new one after the last). */
function runAndNext(cell) {
  runCell(cell);
  const list = cells.value;
  const next = list[list.indexOf(cell) + 1] ?? addCell(cell);
  focusedCell.value = next.id;
}

export function Cell({ cell, index }) {
  const st = cell.status.value;
  const err = cell.error.value;
  return (
    <section class="cell" data-testid="cell" data-cell-type="sql" data-cell-name="" data-cell-id={cell.id}>
      <div class="cell-head">
        <span class="cell-index">[{index + 1}]</span>
        <button data-testid="cell-run" title="Run (Ctrl+Enter)" disabled={cell.running.value}
          onClick={() => runCell(cell)}>Run</button>
        <span class="cell-status" data-testid="cell-status">
          {cell.running.value ? 'running…' : st ? `${st.site ?? 'done'} · ${rows(st.rowCount ?? 0)} · ${fmtMs(st.ms ?? 0)}` : ''}
        </span>
        {cell.progress.value !== null && <progress max="100" value={cell.progress.value} />}
      </div>
      <SqlEditor source={cell.source} onRun={() => runCell(cell)} onRunNext={() => runAndNext(cell)}
        onFocus={() => { focusedCell.value = cell.id; }} focused={focusedCell.value === cell.id} />
      {err && <pre class="cell-error" data-testid="cell-error">{err.message}</pre>}
      {!err && <ResultTable result={cell.result.value} />}
    </section>
  );
}
