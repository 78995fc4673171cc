// Notebook.jsx: the middle pane: the open notebook's title (click to
// rename), whether it is saved, a conflict with another tab's edits, the
// cells, and the notebook's actions (run all, run above, cancel all, add a
// cell, export, import).  In command mode (Esc in a cell) the notebook takes
// the keys, as Jupyter does: Up/Down (or K/J) move, Enter edits, A/B insert
// above/below, D D deletes, Z puts the last deleted cell back, M/Y turn the
// cell into Markdown/SQL, Ctrl/Shift+Enter run.

import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { Cell } from './Cell.jsx';
import { Conflict } from './Conflict.jsx';
import { NotebookFiles } from './NotebookFiles.jsx';
import { focusNotebook, setNotebookElement } from './focus.js';
import { addedFiles } from './data_files.js';
import { current, notebookError, renameNotebook, saveState } from './notebooks.js';
import { addCell, cancelAll, cells, currentCell, deleteCell, editCell, mode, moveCurrent, runAll, runCell,
  setCellType, undoDelete } from './store.js';
import './Notebook.css';

const SAVE_TEXT = {
  saved: 'Saved', unsaved: 'Unsaved changes', saving: 'Saving…',
  offline: 'Offline: changes kept in this browser', conflict: 'Changed elsewhere', error: 'Not saved',
};

let lastKey = '';

function onKey(ev) {
  if (mode.value !== 'command' || ev.target.closest?.('.sql-editor, input, button, summary')) return;
  const cell = cells.value.find((c) => c.id === currentCell.value);
  if (!cell) return;
  const key = ev.key;
  const twice = key === lastKey;
  lastKey = key;
  if (key === 'Enter' && (ev.ctrlKey || ev.metaKey)) runCell(cell);
  else if (key === 'Enter' && ev.shiftKey) { runCell(cell); moveCurrent(1); }
  else if (key === 'Enter') editCell(cell);
  else if (key === 'ArrowUp' || key === 'k') moveCurrent(-1);
  else if (key === 'ArrowDown' || key === 'j') moveCurrent(1);
  else if (key === 'a') currentCell.value = addCell(cell, '', { above: true }).id;
  else if (key === 'b') currentCell.value = addCell(cell).id;
  else if (key === 'd' && twice) { deleteCell(cell); lastKey = ''; }
  else if (key === 'z') undoDelete();
  else if (key === 'm') setCellType(cell, 'markdown');
  else if (key === 'y') setCellType(cell, 'sql');
  else return;
  ev.preventDefault();
}

/** The notebook's title; a click (or Enter on it) turns it into a field that renames it. */
function Title() {
  const editing = useSignal(false);
  const nb = current.value;
  const title = nb?.title ?? 'Scratch (not saved)';
  if (!editing.value || !nb) {
    return (
      <button class="notebook-title" data-testid="notebook-title" title={nb ? 'Rename' : 'This token cannot save notebooks'}
        disabled={!nb} onClick={() => { editing.value = true; }}>{title}</button>
    );
  }
  const commit = (el) => {
    if (!editing.peek()) return; // Escape cancelled it (the blur that follows commits nothing)
    editing.value = false;
    const t = el.value.trim();
    if (t && t !== nb.title) renameNotebook(nb.id, t).catch(() => { /* notebookError says why */ });
  };
  return (
    <input class="notebook-title-input" data-testid="notebook-title-input" value={title} aria-label="Notebook title"
      ref={(el) => { if (el && document.activeElement !== el) { el.focus(); el.select(); } }}
      onBlur={(e) => commit(e.currentTarget)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit(e.currentTarget);
        else if (e.key === 'Escape') { editing.value = false; focusNotebook(); }
      }} />
  );
}

export function Notebook() {
  const root = useRef(null);
  useEffect(() => { setNotebookElement(root.current); }, []);
  // command mode: the notebook itself holds the focus, so the keys come here
  useEffect(() => { if (mode.value === 'command') focusNotebook(); }, [mode.value, currentCell.value]);
  const running = cells.value.some((c) => c.running.value);
  const cur = cells.value.find((c) => c.id === currentCell.value);
  const state = saveState.value;
  return (
    <div class="notebook" data-testid="notebook" tabIndex={-1} ref={root} onKeyDown={onKey}>
      <div class="notebook-bar">
        <Title />
        <span class="save-state" data-testid="save-state" data-state={state}>
          {current.value ? SAVE_TEXT[state] : ''}
        </span>
        <span class="spacer" />
        {running
          ? <button data-testid="cancel-all" onClick={() => cancelAll()}>Cancel all</button>
          : <button data-testid="run-all" title="Run every SQL cell in order" onClick={() => runAll()}>Run all</button>}
        <button data-testid="run-above" title="Run the SQL cells above the current one" disabled={running || !cur}
          onClick={() => runAll({ above: cur })}>Run above</button>
        <button data-testid="add-cell" title="Add a SQL cell at the end" onClick={() => editCell(addCell())}>+ SQL</button>
        <button data-testid="add-markdown" title="Add a Markdown cell at the end"
          onClick={() => editCell(addCell(null, '', { type: 'markdown' }))}>+ Text</button>
        <NotebookFiles />
      </div>
      {notebookError.value && <p class="notebook-error" data-testid="notebook-error" role="alert">{notebookError.value}</p>}
      {addedFiles.value.length > 0 && (
        <p class="added-files" data-testid="added-files" role="status">
          {addedFiles.value.map((f) => (f.error ? `${f.file} could not be read in the browser: ${f.error}`
            : `${f.file} → ${f.view}`)).join(' · ')}
          <button class="dismiss" title="Dismiss" onClick={() => { addedFiles.value = []; }}>✕</button>
        </p>
      )}
      <Conflict />
      {cells.value.map((c, i) => <Cell key={c.id} cell={c} index={i} />)}
    </div>
  );
}
