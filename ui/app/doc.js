// doc.js: a notebook as the server stores it: the text of
//   {"format": 1, "cells": [{"id", "type": "sql"|"markdown", "name", "source", "view"?}]}
// (the server keeps it opaque, server/notebooks.h).  `id` is the cell's
// stable key; `name` is empty or an identifier later cells query the
// cell's result by; `view` is the results panel's state (panel.js:
// sort, filters, search, columns, pivot), absent when it has none.
//
// Pure functions on plain cells {id, type, name, source, view?}; store.js
// turns them into cells with signals.

export const DOC_FORMAT = 1;
export const CELL_TYPES = ['sql', 'markdown'];

/** A fresh cell key. */
export const newKey = () => crypto.randomUUID().replaceAll('-', '').slice(0, 12);

/** A plain cell with defaults filled in. */
export function plainCell({ id = newKey(), type = 'sql', name = '', source = '', view = null } = {}) {
  const c = { id, type: CELL_TYPES.includes(type) ? type : 'sql', name, source };
  if (view && typeof view === 'object' && !Array.isArray(view) && Object.keys(view).length) c.view = view;
  return c;
}

/**
 * Why `name` cannot name a cell (null when it can): a cell's name is an
 * unquoted SQL identifier, so `FROM name` finds its result.
 */
export function cellNameProblem(name, others = []) {
  if (name === '') return null;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return 'a name is letters, digits and _, not starting with a digit';
  if (name.length > 63) return 'a name is at most 63 characters';
  if (others.some((o) => o.toLowerCase() === name.toLowerCase())) return 'another cell has this name';
  return null;
}

/** The stored text of a notebook's plain cells. */
export function docText(cells) {
  return JSON.stringify({ format: DOC_FORMAT, cells: cells.map((c) => plainCell(c)) });
}

/**
 * Plain cells of a stored text; '' (a notebook never saved) is one empty SQL
 * cell.  Throws on text that is not a notebook of a known format.
 */
export function parseDoc(text) {
  if (text === '') return [plainCell()];
  const doc = JSON.parse(text);
  if (doc?.format !== DOC_FORMAT || !Array.isArray(doc.cells)) {
    throw new Error(`not a notebook of format ${DOC_FORMAT} (this page may be older than the notebook)`);
  }
  const cells = doc.cells.map((c) => plainCell({
    id: typeof c.id === 'string' && c.id ? c.id : undefined,
    type: c.type, name: typeof c.name === 'string' ? c.name : '', source: typeof c.source === 'string' ? c.source : '',
    view: c.view,
  }));
  return cells.length ? cells : [plainCell()];
}
