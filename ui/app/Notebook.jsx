// Notebook.jsx: the middle pane: the cells, add a cell, run all.  In
// command mode (Esc in a cell) the notebook takes the keys, as Jupyter does:
// Up/Down (or K/J) move, Enter edits, A/B insert above/below, D D deletes,
// Z puts the last deleted cell back, Ctrl/Shift+Enter run.

import { useEffect, useRef } from 'preact/hooks';
import { Cell } from './Cell.jsx';
import { focusNotebook, setNotebookElement } from './focus.js';
import { addCell, cells, currentCell, deleteCell, editCell, mode, moveCurrent, runAll, runCell,
  undoDelete } from './store.js';
import './Notebook.css';

let lastKey = '';

function onKey(ev) {
  if (mode.value !== 'command' || ev.target.closest?.('.sql-editor, input, button')) return;
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
  else return;
  ev.preventDefault();
}

export function Notebook() {
  const root = useRef(null);
  useEffect(() => { setNotebookElement(root.current); }, []);
  // command mode: the notebook itself holds the focus, so the keys come here
  useEffect(() => { if (mode.value === 'command') focusNotebook(); }, [mode.value, currentCell.value]);
  return (
    <div class="notebook" data-testid="notebook" tabIndex={-1} ref={root} onKeyDown={onKey}>
      <div class="notebook-bar">
        <span class="notebook-title" data-testid="notebook-title">Scratch</span>
        <button data-testid="run-all" onClick={() => runAll()}>Run all</button>
        <button data-testid="add-cell" onClick={() => addCell()}>+ SQL cell</button>
      </div>
      {cells.value.map((c, i) => <Cell key={c.id} cell={c} index={i} />)}
    </div>
  );
}
