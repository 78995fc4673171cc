// Inspector.jsx: the right pane, in tabs.  Table: the catalog item
// selected (its site, rows, each column's type, null share and approximate
// distinct count, the first 100 rows, its DDL; query it in a new cell,
// copy its name or DDL).  Plan: the last EXPLAIN (a split query's as a
// tree of browser and server operators).  History: the user's past queries.

import { useEffect } from 'preact/hooks';
import { fmtInt } from '/js/rows.js';
import { History } from './History.jsx';
import { copyText as copy } from './clipboard.js';
import { Plan } from './Plan.jsx';
import { ResultTable } from './ResultTable.jsx';
import { addCell, cells, currentCell, editCell, inspectorTab, selected } from './store.js';
import { qualified, summarize, summary } from './table_summary.js';
import './Inspector.css';

const TABS = [['table', 'Table'], ['plan', 'Plan'], ['history', 'History']];

const pct = (v) => (v === null ? '' : `${v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)}%`);

function TableTab() {
  const s = selected.value;
  useEffect(() => { if (s) summarize(s); }, [s?.name]);
  if (!s) return <p class="empty">Select a table in the catalog to see its columns, a summary and its first rows.</p>;
  const sum = summary.value?.name === s.name ? summary.value : null;
  const ready = sum?.state === 'ready';
  const cols = ready ? sum.columns : (s.table.columns ?? []).map((c) => ({ name: c.name, type: c.type }));
  const queryIt = () => {
    const cur = cells.peek().find((c) => c.id === currentCell.peek()) ?? null;
    editCell(addCell(cur, `SELECT * FROM ${qualified(s)}`));
  };
  return (
    <div data-testid="table-summary" data-state={sum?.state ?? 'loading'}>
      <h2 title={s.name}>{s.table.name}</h2>
      <p class="meta">{s.site === 'local' ? 'in the browser' : 'on the server'} · {s.database}.{s.schema}
        {s.table.view && ' · view'}
        {ready ? <> · <span data-testid="table-rows">{fmtInt.format(sum.rows)}</span> rows</>
          : typeof s.table.rows === 'number' && ` · about ${fmtInt.format(s.table.rows)} rows`}</p>
      <div class="actions">
        <button data-testid="query-table" onClick={queryIt}>Query in a new cell</button>
        <button data-testid="copy-name" onClick={() => copy(qualified(s)).catch(() => {})}>Copy name</button>
        <button data-testid="copy-ddl" disabled={!sum?.ddl} onClick={() => copy(sum.ddl).catch(() => {})}>Copy DDL</button>
      </div>
      {sum?.state === 'loading' && <p class="empty">Summarizing…</p>}
      {sum?.state === 'error' && <p class="error">{sum.error}</p>}
      <table class="columns">
        <thead><tr><th>column</th><th>type</th>{ready && <><th title="null share">nulls</th><th title="approximate distinct values">distinct</th></>}</tr></thead>
        <tbody>
          {cols.map((c) => (
            <tr data-testid="column-stat" data-column={c.name}>
              <td>{c.name}</td><td class="type">{c.type}</td>
              {ready && <><td class="num">{pct(c.nullPercent)}</td><td class="num">{c.distinct === null ? '' : fmtInt.format(c.distinct)}</td></>}
            </tr>
          ))}
        </tbody>
      </table>
      {ready && sum.ddl && <pre class="ddl" data-testid="table-ddl">{sum.ddl}</pre>}
      {ready && <div class="preview" data-testid="table-preview"><ResultTable result={sum.preview} /></div>}
    </div>
  );
}

export function Inspector() {
  const tab = inspectorTab.value;
  return (
    <aside class="inspector" data-testid="inspector">
      <div class="tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button role="tab" aria-selected={tab === id} data-testid={id === 'history' ? 'history-toggle' : `tab-${id}`}
            onClick={() => { inspectorTab.value = id; }}>{label}</button>
        ))}
      </div>
      {tab === 'table' && <TableTab />}
      {tab === 'plan' && <Plan />}
      {tab === 'history' && <History />}
    </aside>
  );
}
