// History.jsx: the user's past queries (history.js), newest first: when,
// where it ran, how long, rows or the error, the SQL.  The search box asks
// the server; clicking an entry puts its SQL in a new cell below the
// current one.

import { useEffect } from 'preact/hooks';
import { fmtMs, fmtRows } from '/js/rows.js';
import { clearHistory, historyEntries, historyError, historySearch, historyShown, refreshHistory } from './history.js';
import { addCell, cells, currentCell, editCell } from './store.js';
import './History.css';

const clock = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
let searchTimer = null;

function insert(sql) {
  const cur = cells.peek().find((c) => c.id === currentCell.peek()) ?? null;
  editCell(addCell(cur, sql));
}

export function History() {
  useEffect(() => {
    historyShown.value = true;
    refreshHistory();
    return () => { historyShown.value = false; };
  }, []);
  const entries = historyEntries.value;
  return (
    <div class="history">
      <div class="history-bar">
        <input type="search" data-testid="history-search" placeholder="Search past queries…" aria-label="Search past queries"
          value={historySearch.value} onInput={(e) => {
            historySearch.value = e.currentTarget.value;
            clearTimeout(searchTimer);
            searchTimer = setTimeout(refreshHistory, 150);
          }} />
        <button title="Forget every past query" onClick={() => clearHistory().catch(() => {})}>Clear</button>
      </div>
      {historyError.value && <p class="error">{historyError.value}</p>}
      <ol data-testid="history">
        {entries.map((e) => (
          <li>
            <button class="entry" data-testid="history-entry" title="Put this SQL in a new cell" onClick={() => insert(e.sql)}>
              <span class="meta">
                <span class={`site ${e.site}`}>{e.site}</span>
                <span>{clock.format(e.at_ms)}</span>
                <span>{fmtMs(e.ms)}</span>
                {e.error ? <span class="failed">failed</span> : e.rows !== null && <span>{fmtRows(e.rows)}</span>}
              </span>
              <code>{e.sql}</code>
              {e.error && <span class="why">{e.error}</span>}
            </button>
          </li>
        ))}
      </ol>
      {!entries.length && <p class="empty">{historySearch.value ? 'No past query matches.' : 'Queries you run show here.'}</p>}
    </div>
  );
}
