// Notebooks.jsx: the user's notebooks (top of the left pane): open one,
// make a new one, duplicate or delete one; the trash (a deleted notebook
// is kept 7 days) with restore.  Renaming is done on the open notebook's
// title.

import { fmtMs } from '/js/rows.js';
import { createNotebook, current, deleteNotebook, duplicateNotebook, notebookList, openNotebook,
  restoreNotebook } from './notebooks.js';
import './Notebooks.css';

const quiet = (p) => p.catch(() => { /* notebookError says why */ });

/** "3 days" until the trash lets go of a notebook. */
function leftIn(ms) {
  const days = Math.max(0, Math.ceil((ms - Date.now()) / 86400000));
  return days === 1 ? '1 day left' : `${days} days left`;
}

export function Notebooks() {
  const { notebooks, trash } = notebookList.value;
  const open = current.value?.id;
  return (
    <section class="notebooks">
      <div class="side-head">
        <h2>Notebooks</h2>
        <button data-testid="new-notebook" title="New notebook" onClick={() => quiet(createNotebook())}>+ New</button>
      </div>
      <ul data-testid="notebook-list">
        {notebooks.map((n) => (
          <li class={n.id === open ? 'open' : ''}>
            <button class="nb" data-testid="notebook-item" data-id={n.id} title={n.title} aria-current={n.id === open}
              onClick={() => { if (n.id !== open) quiet(openNotebook(n.id)); }}>{n.title}</button>
            <button class="nb-act" data-testid="notebook-duplicate" title={`Duplicate ${n.title}`}
              aria-label={`Duplicate ${n.title}`} onClick={() => quiet(duplicateNotebook(n.id))}>⧉</button>
            <button class="nb-act" data-testid="notebook-delete" title={`Delete ${n.title} (kept 7 days in the trash)`}
              aria-label={`Delete ${n.title}`} onClick={() => quiet(deleteNotebook(n.id))}>✕</button>
          </li>
        ))}
        {!notebooks.length && <li class="empty">No notebooks yet</li>}
      </ul>
      {trash.length > 0 && (
        <details class="trash" data-testid="trash">
          <summary>Trash ({trash.length})</summary>
          <ul>
            {trash.map((n) => (
              <li>
                <span class="nb" title={`${n.title}: deleted ${fmtMs(Date.now() - n.deleted_ms)} ago`}>{n.title}</span>
                <small>{leftIn(n.purge_ms)}</small>
                <button class="nb-act" data-testid="notebook-restore" title={`Restore ${n.title}`}
                  onClick={() => quiet(restoreNotebook(n.id))}>Restore</button>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
