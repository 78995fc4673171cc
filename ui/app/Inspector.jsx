// Inspector.jsx: the right pane: the catalog item selected (its site,
// estimated rows, columns with their types); empty until one is.

import { fmtInt } from '/js/rows.js';
import { selected } from './store.js';
import './Inspector.css';

export function Inspector() {
  const s = selected.value;
  return (
    <aside class="inspector" data-testid="inspector">
      {!s && <p class="empty">Select a table in the catalog to see its columns.</p>}
      {s && (
        <>
          <h2 title={s.name}>{s.table.name}</h2>
          <p class="meta">{s.site === 'local' ? 'in the browser' : 'on the server'} · {s.database}.{s.schema}
            {typeof s.table.rows === 'number' && ` · about ${fmtInt.format(s.table.rows)} rows`}
            {s.table.view && ' · view'}</p>
          <table>
            <tbody>
              {(s.table.columns ?? []).map((c) => <tr><td>{c.name}</td><td class="type">{c.type}</td></tr>)}
            </tbody>
          </table>
        </>
      )}
    </aside>
  );
}
