// Notebooks.jsx: the user's notebooks (top of the left pane): open one,
// make a new one, duplicate or delete one; the trash (a deleted notebook
// is kept 7 days) with restore.  Renaming is done on the open notebook's
// title.

import { fmtMs } from '/js/rows.js';
import { createNotebook, current, deleteNotebook, duplicateNotebook, notebookList, openNotebook,
  restoreNotebook } from './notebooks.js';
import './Notebooks.css';

// icons drawn here (a font may lack the symbols): two sheets, a cross
const CopyIcon = () => (
  <svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.4">
    <rect x="5.5" y="5.5" width="8" height="8" rx="1.5" /><path d="M3.5 10.5h-1v-8h8v1" />
  </svg>
);
const CrossIcon = () => (
  <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" stroke="currentColor" stroke-width="1.6">
    <path d="M3.5 3.5l9 9M12.5 3.5l-9 9" />
  </svg>
);

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
              aria-label={`Duplicate ${n.title}`} onClick={() => quiet(duplicateNotebook(n.id))}><CopyIcon /></button>
            <button class="nb-act" data-testid="notebook-delete" title={`Delete ${n.title} (kept 7 days in the trash)`}
              aria-label={`Delete ${n.title}`} onClick={() => quiet(deleteNotebook(n.id))}><CrossIcon /></button>
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
