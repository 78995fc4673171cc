// Cell.jsx: one notebook cell.
// SQL: its name (later cells query its result by it), editor, run and
// cancel, status (where it ran, rows, time; a hybrid's bytes each way),
// progress, the error (its position underlined in the editor), the results
// panel.  Markdown: rendered, or its editor while it is edited (Enter in
// command mode, a double click); running it or Esc renders it.

import { effect } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { fmtBytes, fmtMs, fmtRows } from '/js/rows.js';
import { cellNameProblem } from './doc.js';
import { focusNotebook } from './focus.js';
import { Markdown } from './Markdown.jsx';
import { SqlEditor } from './SqlEditor.jsx';
import { ResultPanel } from './ResultPanel.jsx';
import { addCell, cancelRun, cells, commandMode, currentCell, editCell, mode, runCell,
  runStatementAt } from './store.js';
import './Cell.css';

function statusText(st) {
  const where = st.site === 'hybrid' && st.hybrid
    ? `hybrid (${fmtBytes(st.hybrid.bytesUp ?? 0)} up, ${fmtBytes(st.hybrid.bytesDown ?? 0)} down)`
    : st.site ?? 'done';
  return `${where} · ${fmtRows(st.rowCount ?? 0)} · ${fmtMs(st.ms ?? 0)}`;
}

/** Run `cell`, then edit the next cell (a new one after the last). */
function runAndNext(cell) {
  runCell(cell);
  const list = cells.value;
  const next = list[list.indexOf(cell) + 1] ?? addCell(cell);
  editCell(next);
}

function NameField({ cell }) {
  const others = cells.value.filter((c) => c !== cell).map((c) => c.name.value).filter(Boolean);
  const problem = cellNameProblem(cell.name.value, others);
  return (
    <input class={`cell-name${problem ? ' bad' : ''}`} data-testid="cell-name" placeholder="name" spellcheck={false}
      value={cell.name.value} aria-label="Cell name: later cells query its result by it"
      title={problem ?? 'Later cells query this cell\'s result by its name'}
      onInput={(e) => { cell.name.value = e.currentTarget.value.trim(); }}
      onKeyDown={(e) => { if (e.key === 'Enter' || e.key === 'Escape') { e.preventDefault(); commandMode(cell); focusNotebook(); } }} />
  );
}

/** The running cell's progress bar: its own component, so that progress
 * messages re-render the bar alone, not the cell and its result. */
function Progress({ cell }) {
  const p = cell.progress.value;
  return p === null ? null : <progress max="100" value={p} />;
}

function SqlCell({ cell, err }) {
  const st = cell.status.value;
  return (
    <>
      <div class="cell-head">
        {cell.running.value
          ? <button data-testid="cell-cancel" title="Cancel" onClick={() => cancelRun()}>Cancel</button>
          : <button data-testid="cell-run" title="Run (Ctrl+Enter)" onClick={() => runCell(cell)}>Run</button>}
        <NameField cell={cell} />
        <span class="cell-status" data-testid="cell-status">
          {cell.running.value ? 'running…' : st ? statusText(st) : ''}
        </span>
        <Progress cell={cell} />
      </div>
      <SqlEditor key="sql" id={cell.id} source={cell.source} onRun={(range) => runCell(cell, range)}
        onRunStatement={(at) => runStatementAt(cell, at)} onRunNext={() => runAndNext(cell)}
        onFocus={() => { currentCell.value = cell.id; mode.value = 'edit'; }} onEscape={() => { commandMode(cell); focusNotebook(); }}
        errorAt={err && typeof err.position === 'number' ? err.position : null} />
      {err && <pre class="cell-error" data-testid="cell-error">{err.message}</pre>}
      {!err && <ResultPanel cell={cell} />}
    </>
  );
}

// Both the rendering and the editor are on the page; which one shows
// follows cell.editing at once (an effect on the signal, not the next
// render), so Enter finds the editor there and the keys typed next land in it.
function MarkdownCell({ cell }) {
  const rendered = useRef(null);
  const editor = useRef(null);
  useLayoutEffect(() => effect(() => {
    const editing = cell.editing.value;
    rendered.current.hidden = editing;
    editor.current.hidden = !editing;
  }), [cell]);
  const done = () => { cell.editing.value = false; commandMode(cell); focusNotebook(); };
  return (
    <>
      <div class="cell-markdown" data-testid="cell-markdown" ref={rendered} onDblClick={() => editCell(cell)}
        title="Double-click (or Enter) to edit">
        {cell.source.value.trim() ? <Markdown source={cell.source.value} /> : <p class="empty">Empty Markdown cell</p>}
      </div>
      <div ref={editor}>
        <SqlEditor key="markdown" language="markdown" id={cell.id} source={cell.source} onRun={done}
          onRunNext={() => { cell.editing.value = false; runAndNext(cell); }}
          onFocus={() => { currentCell.value = cell.id; mode.value = 'edit'; }} onEscape={done} />
      </div>
    </>
  );
}

export function Cell({ cell, index }) {
  const type = cell.type.value;
  const isCurrent = currentCell.value === cell.id;
  return (
    <section class={`cell ${type}${isCurrent ? ` current ${mode.value}` : ''}`} data-testid="cell"
      data-cell-type={type} data-cell-name={type === 'sql' ? cell.name.value : ''} data-cell-id={cell.id}
      data-current={isCurrent} onClick={() => { if (mode.value === 'command') commandMode(cell); }}>
      <span class="cell-index" aria-hidden="true">{type === 'sql' ? `[${index + 1}]` : 'md'}</span>
      <div class="cell-body">
        {type === 'sql' ? <SqlCell cell={cell} err={cell.error.value} /> : <MarkdownCell cell={cell} />}
      </div>
    </section>
  );
}
