// focus.js: where the keyboard goes, at once rather than after the next
// render (a key pressed right after Esc or Enter must land where the user
// asked): the notebook's own element in command mode (registered by
// Notebook.jsx), a cell's editor to edit it (registered by SqlEditor.jsx
// under the cell's id, made in the cell's first render: a cell just added
// gets the keys then).

let notebook = null;
const editors = new Map(); // cell id -> {focus()}
let pending = null; // the cell whose editor is to have the keys once it is made

/** Register (or with null, forget) the editor of cell `id`; it takes the keys if they were asked for it. */
export function setEditor(id, editor) {
  if (editor) editors.set(id, editor);
  else editors.delete(id);
  if (editor && pending === id) {
    pending = null;
    editor.focus();
  }
}

/** Focus cell `id`'s editor: now if it is on the page, else as soon as it is made. */
export function focusEditor(id) {
  const e = editors.get(id);
  pending = e ? null : id;
  e?.focus();
}

export function setNotebookElement(el) {
  notebook = el;
}

export function focusNotebook() {
  pending = null;
  notebook?.focus();
}
