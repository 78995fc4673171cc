// history.js: the user's query history, kept on the server (HISTORY
// requests, server/history.h).  Every run of a cell (or of mdApp.run) is
// recorded once it ended: its SQL, where it ran, its time, the rows of its
// last result or its error.  The list is read when the history is shown
// and searched on the server.

import { signal } from '@preact/signals';
import { afterRun, session } from './store.js';

/** The entries shown, newest first: [{id, at_ms, site, ms, rows, sql, error}]. */
export const historyEntries = signal([]);
export const historySearch = signal('');
/** Whether the history is on screen (then each run refreshes it). */
export const historyShown = signal(false);
export const historyError = signal(null);

/** Where a script ran: its one site, 'mixed' for several, 'unknown' when it failed before running. */
function siteOf(sites) {
  const set = new Set(sites ?? []);
  return set.size === 1 ? [...set][0] : set.size ? 'mixed' : 'unknown';
}

/** The SQL kept of a longer script: at most 24 KiB in UTF-8, within the server's 32 KiB (server/history.h). */
const HISTORY_SQL_CHARS = 8000;

afterRun.add(({ sql: ran, out, error, ms }) => {
  if (!ran.trim() || !session.peek()) return;
  const sql = ran.length > HISTORY_SQL_CHARS ? `${ran.slice(0, HISTORY_SQL_CHARS)}\n-- … (${ran.length} characters in all)` : ran;
  const entry = error
    ? { op: 'add', sql, site: 'unknown', ms, error: error.message.slice(0, 1000) }
    : { op: 'add', sql, site: siteOf(out.sites), ms: out.ms, rows: out.results.at(-1)?.rowCount ?? 0 };
  session.peek().history(entry)
    .then(() => { if (historyShown.peek()) refreshHistory(); })
    .catch(() => { /* a lost entry is not worth an error on screen */ });
});

let seq = 0;

/** Read the newest entries that match the search box. */
export async function refreshHistory() {
  const me = ++seq;
  try {
    const search = historySearch.peek().trim();
    const r = await session.peek().history({ op: 'list', ...(search ? { search } : {}) });
    if (me !== seq) return; // a newer search answered first
    historyEntries.value = r.entries;
    historyError.value = null;
  } catch (e) {
    if (me === seq) historyError.value = e.message;
  }
}

export async function clearHistory() {
  await session.peek().history({ op: 'clear' });
  await refreshHistory();
}
