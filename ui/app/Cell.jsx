// Cell.jsx: one SQL cell: editor, run and cancel, status (where it ran,
// rows, time; a hybrid's bytes each way), progress, the error (its position
// underlined in the editor), the first rows.

import { fmtBytes, fmtMs, fmtRows } from '/js/rows.js';
import { focusNotebook } from './focus.js';
import { SqlEditor } from './SqlEditor.jsx';
import { ResultTable } from './ResultTable.jsx';
import { addCell, cancelRun, cells, commandMode, currentCell, editCell, editRequest, mode, runCell } from './store.js';
import './Cell.css';

function statusText(st) {
  const where = st.site === 'hybrid' && st.hybrid
    ? `hybrid (${fmtBytes(st.hybrid.bytesUp ?? 0)} up, ${fmtBytes(st.hybrid.bytesDown ?? 0)} down)`
    : st.site ?? 'done';
  return `${where} · ${fmtRows(st.rowCount ?? 0)} · ${fmtMs(st.ms ?? 0)}`;
}

/** Run `cell`, then focus the next cell (a new one after the last). */
function runAndNext(cell) {
  runCell(cell);
  const list = cells.value;
  const next = list[list.indexOf(cell) + 1] ?? addCell(cell);
  editCell(next);
}

export function Cell({ cell, index }) {
  const st = cell.status.value;
  const err = cell.error.value;
  return (
    <section class={`cell${currentCell.value === cell.id ? ` current ${mode.value}` : ''}`} data-testid="cell"
      data-cell-type="sql" data-cell-name="" data-cell-id={cell.id} data-current={currentCell.value === cell.id}
      onClick={() => { if (mode.value === 'command') commandMode(cell); }}>
      <div class="cell-head">
        <span class="cell-index">[{index + 1}]</span>
        {cell.running.value
          ? <button data-testid="cell-cancel" title="Cancel" onClick={() => cancelRun()}>Cancel</button>
          : <button data-testid="cell-run" title="Run (Ctrl+Enter)" onClick={() => runCell(cell)}>Run</button>}
        <span class="cell-status" data-testid="cell-status">
          {cell.running.value ? 'running…' : st ? statusText(st) : ''}
        </span>
        {cell.progress.value !== null && <progress max="100" value={cell.progress.value} />}
      </div>
      <SqlEditor id={cell.id} source={cell.source} onRun={() => runCell(cell)} onRunNext={() => runAndNext(cell)}
        onFocus={() => { currentCell.value = cell.id; mode.value = 'edit'; }} onEscape={() => { commandMode(cell); focusNotebook(); }}
        focusKey={editRequest.value.id === cell.id ? editRequest.value.n : 0}
        errorAt={err && typeof err.position === 'number' ? err.position : null} />
      {err && <pre class="cell-error" data-testid="cell-error">{err.message}</pre>}
      {!err && <ResultTable result={cell.result.value} />}
    </section>
  );
}
