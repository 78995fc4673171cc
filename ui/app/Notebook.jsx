// Notebook.jsx: the middle pane: the cells, add a cell, run all.

import { Cell } from './Cell.jsx';
import { addCell, cells, runAll } from './store.js';
import './Notebook.css';

export function Notebook() {
  return (
    <div class="notebook" data-testid="notebook">
      <div class="notebook-bar">
        <span class="notebook-title" data-testid="notebook-title">Scratch</span>
        <button data-testid="run-all" onClick={() => runAll()}>Run all</button>
        <button data-testid="add-cell" onClick={() => addCell()}>+ SQL cell</button>
      </div>
      {cells.value.map((c, i) => <Cell key={c.id} cell={c} index={i} />)}
    </div>
  );
}
