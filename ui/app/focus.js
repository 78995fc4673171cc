// focus.js: where the keyboard goes, at once rather than after the next
// render (a key pressed right after Esc or Enter must land where the user
// asked): the notebook's own element in command mode (registered by
// Notebook.jsx), a cell's editor to edit it (registered by SqlEditor.jsx
// under the cell's id).

let notebook = null;
const editors = new Map(); // cell id -> {focus()}

/** Register (or with null, forget) the editor of cell `id`. */
export function setEditor(id, editor) {
  if (editor) editors.set(id, editor);
  else editors.delete(id);
}

/** Focus cell `id`'s editor if it is on the page; returns whether it was. */
export function focusEditor(id) {
  const e = editors.get(id);
  e?.focus();
  return Boolean(e);
}

export function setNotebookElement(el) {
  notebook = el;
}

export function focusNotebook() {
  notebook?.focus();
}
