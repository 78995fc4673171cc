// notebooks.js: the user's notebooks, kept on the server (NOTEBOOK
// requests, server/notebooks.h), and the saving of the open one.
//
// Saving.  Every change of the open notebook's cells is written at once to
// localStorage (PENDING_KEY + the notebook's id: {base, content}, base being
// the version the edit was made from) and sent to the server SAVE_DELAY_MS
// after the typing stops.  The server's answer removes the browser's copy
// (unless more was typed meanwhile, which is then saved in turn).  While
// the connection is down the copy waits, and is sent once the session is
// back; after a reload, opening the notebook finds it and saves it.  So
// nothing typed is lost: it is in the browser until the server has it.
//
// Conflicts.  A save names the version it was made from; when another tab
// or window saved first the server refuses it (VERSION_CONFLICT) and
// overwrites nothing.  The page then shows both and the user keeps theirs,
// the other, or both (theirs saved as a new notebook).  The same happens
// when a copy found after a reload was made from an older version.
//
// The open notebook's id is in the address bar (?notebook=ID), so a link
// opens it.

import { computed, effect, signal } from '@preact/signals';
import { docText, parseDoc, plainCell } from './doc.js';
import { cells, conn, plainOf, session, setCells } from './store.js';

export const SAVE_DELAY_MS = 500;
const PENDING_KEY = 'mdserver.unsaved.';
const URL_PARAM = 'notebook';
export const DEFAULT_TITLE = 'Untitled notebook';

/** The server's list: {notebooks: [{id, title, version, updated_ms}], trash: [{id, title, deleted_ms, purge_ms}]}. */
export const notebookList = signal({ notebooks: [], trash: [] });
/** The open notebook {id, title, version}; null: a scratch notebook, not saved (a read-only token). */
export const current = signal(null);
/** 'saved' | 'unsaved' | 'saving' | 'offline' | 'conflict' | 'error' */
export const saveState = signal('saved');
/** Why the last save or notebook request failed (shown by the page), or null. */
export const notebookError = signal(null);
/** While a conflict waits for the user: {theirs: {id, title, version, content}, base: the version
 * the edits shown (mine) were made from}. */
export const conflict = signal(null);

/** The open notebook's text as it would be saved. */
export const notebookText = computed(() => docText(cells.value.map(plainOf)));
const text = notebookText;
let savedText = null; // what the server holds at current.version
let timer = null;
let flight = null;    // the save on its way, if any

const pendingKey = (id) => PENDING_KEY + id;

function readPending(id) {
  try {
    return JSON.parse(localStorage.getItem(pendingKey(id)));
  } catch {
    return null;
  }
}

const writePending = (id, base, content) => localStorage.setItem(pendingKey(id), JSON.stringify({ base, content }));
const clearPending = (id) => localStorage.removeItem(pendingKey(id));

async function request(req) {
  if (!session.peek()) throw Object.assign(new Error('not logged in'), { code: 'AUTH_FAILED' });
  return session.peek().notebook(req);
}

/** Show a failed request's reason; rethrow it for the caller. */
function failed(e) {
  notebookError.value = e.message;
  throw e;
}

// every change: into the browser at once, to the server soon
effect(() => {
  const t = text.value;
  const nb = current.peek();
  if (!nb) return;
  const c = conflict.peek();
  if (c) { // kept, from the version it was made from, until the user chooses
    writePending(nb.id, c.base, t);
    return;
  }
  if (t === savedText) { // back to what the server has (an edit undone): nothing to keep or send
    clearTimeout(timer);
    clearPending(nb.id);
    if (!flight && saveState.peek() === 'unsaved') saveState.value = 'saved';
    return;
  }
  writePending(nb.id, nb.version, t);
  saveState.value = 'unsaved';
  clearTimeout(timer);
  timer = setTimeout(() => { save(); }, SAVE_DELAY_MS);
});

// the connection is back: send what waited
effect(() => {
  if (conn.value.state === 'open' && saveState.peek() === 'offline') save();
});

/**
 * Send the open notebook's unsaved edits now; resolves when the server has
 * them, or they could not be sent (then kept in the browser).  A save on its
 * way is waited for first, then what was typed since is sent.
 */
export async function save() {
  clearTimeout(timer);
  timer = null;
  if (flight) {
    await flight;
    return save();
  }
  const nb = current.peek();
  if (!nb || conflict.peek()) return;
  const t = text.peek();
  if (t === savedText) {
    clearPending(nb.id);
    saveState.value = 'saved';
    return;
  }
  if (conn.peek().state !== 'open') {
    saveState.value = 'offline';
    return;
  }
  saveState.value = 'saving';
  flight = sendSave(nb, t);
  try {
    await flight;
  } finally {
    flight = null;
  }
}

async function sendSave(nb, t) {
  try {
    const r = await request({ op: 'save', id: nb.id, version: nb.version, content: t });
    if (current.peek()?.id !== nb.id) return; // another notebook is open now: it has its own state
    current.value = { ...current.peek(), version: r.version };
    savedText = t;
    notebookError.value = null;
    if (text.peek() === t) {
      clearPending(nb.id);
      saveState.value = 'saved';
    } else {
      writePending(nb.id, r.version, text.peek());
      saveState.value = 'unsaved';
      timer = setTimeout(() => { save(); }, SAVE_DELAY_MS);
    }
  } catch (e) {
    if (current.peek()?.id !== nb.id) return;
    if (e.code === 'VERSION_CONFLICT') await showConflict(nb);
    else if (e.code === 'DISCONNECTED') saveState.value = 'offline';
    else {
      saveState.value = 'error';
      notebookError.value = `not saved: ${e.message}`;
    }
  }
}

/** Another tab saved first: keep what is shown (mine) and fetch theirs for the user to choose. */
async function showConflict(nb) {
  try {
    const theirs = await request({ op: 'get', id: nb.id });
    if (current.peek()?.id !== nb.id) return;
    conflict.value = { theirs, base: nb.version };
    saveState.value = 'conflict';
  } catch (e) {
    saveState.value = 'error';
    notebookError.value = e.message;
  }
}

function setUrl(id) {
  const url = new URL(location.href);
  if (id) url.searchParams.set(URL_PARAM, id);
  else url.searchParams.delete(URL_PARAM);
  history.replaceState(null, '', url);
}

/**
 * Show notebook `nb` (an answer of get or create), its cells from
 * `content`.  With `conflictBase`, the content is this browser's edit made
 * from that older version: shown, kept, and offered against theirs.
 * Throws, changing nothing, on content of an unknown format.
 */
function load(nb, content = nb.content, { conflictBase = null } = {}) {
  const plain = parseDoc(content);
  clearTimeout(timer);
  savedText = nb.content;
  current.value = { id: nb.id, title: nb.title, version: nb.version };
  conflict.value = conflictBase === null ? null : { theirs: nb, base: conflictBase };
  notebookError.value = null;
  saveState.value = conflictBase === null ? 'saved' : 'conflict';
  setCells(plain);
  setUrl(nb.id);
}

export async function refreshList() {
  notebookList.value = await request({ op: 'list' }).catch(failed);
}

/** Open notebook `id`, with the unsaved edits this browser kept for it. */
export async function openNotebook(id) {
  await save();
  const nb = await request({ op: 'get', id }).catch(failed);
  const p = readPending(id);
  try {
    if (p && typeof p.content === 'string' && p.content !== nb.content) {
      // typed before a reload or while offline: saved now, or offered against a newer version
      load(nb, p.content, { conflictBase: p.base === nb.version ? null : p.base });
    } else {
      if (p) clearPending(id);
      load(nb);
    }
  } catch (e) {
    failed(e);
  }
  return nb;
}

/** A new notebook (empty, or with plain cells), opened. */
export async function createNotebook(title = DEFAULT_TITLE, plainCells = null) {
  await save();
  const content = docText(plainCells ?? [plainCell()]); // stored whole: opening it saves nothing
  const nb = await request({ op: 'create', title, content }).catch(failed);
  load(nb);
  refreshList().catch(() => {});
  return nb;
}

export async function renameNotebook(id, title) {
  const r = await request({ op: 'rename', id, title }).catch(failed);
  if (current.peek()?.id === id) current.value = { ...current.peek(), title: r.title };
  await refreshList();
}

export async function duplicateNotebook(id) {
  await save();
  const src = notebookList.peek().notebooks.find((n) => n.id === id);
  const nb = await request({ op: 'duplicate', id, title: `${src?.title ?? current.peek()?.title ?? 'Notebook'} (copy)` })
    .catch(failed);
  load(nb);
  await refreshList();
}

/** Move a notebook to the trash; when it was open, open the newest other one (or a new one). */
export async function deleteNotebook(id) {
  if (current.peek()?.id === id) clearTimeout(timer);
  await request({ op: 'delete', id }).catch(failed);
  clearPending(id);
  await refreshList();
  if (current.peek()?.id !== id) return;
  const next = notebookList.peek().notebooks[0];
  if (next) await openNotebook(next.id);
  else await createNotebook();
}

export async function restoreNotebook(id) {
  await request({ op: 'restore', id }).catch(failed);
  await refreshList();
  await openNotebook(id);
}

/**
 * The user's answer to a conflict: 'mine' (what is shown, saved over
 * theirs), 'theirs', or 'both' (mine as a new notebook, theirs here).
 */
export async function resolveConflict(choice) {
  const c = conflict.peek();
  const nb = current.peek();
  if (!c || !nb) return;
  if (choice === 'mine') {
    current.value = { ...nb, version: c.theirs.version };
    savedText = c.theirs.content;
    conflict.value = null;
    saveState.value = 'unsaved';
    await save();
    return;
  }
  if (choice === 'both') {
    await request({ op: 'create', title: `${c.theirs.title} (my edits)`, content: text.peek() }).catch(failed);
  }
  clearPending(nb.id);
  load(c.theirs);
  await refreshList();
}

/**
 * After login: the notebook of the link, else the most recent one, else a
 * new one.  A read-only token that has none keeps a scratch notebook.
 */
export async function startNotebooks() {
  await refreshList();
  const wanted = new URL(location.href).searchParams.get(URL_PARAM);
  let linkError = null;
  if (wanted) {
    try {
      return await openNotebook(wanted);
    } catch (e) {
      setUrl(null);
      linkError = `The notebook of this link cannot be opened: ${e.message}`;
    }
  }
  const newest = notebookList.peek().notebooks[0];
  const opened = newest ? await openNotebook(newest.id)
    : session.peek()?.welcome?.read_only ? null : await createNotebook();
  if (linkError) notebookError.value = linkError;
  return opened;
}
