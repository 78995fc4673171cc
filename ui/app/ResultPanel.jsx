// ResultPanel.jsx: the results panel under a SQL cell: every result is
// cached in duckdb-wasm (runtime.js) and shown here whole; the search box
// and the grid's sort and filters are SQL on that table, in the browser.
// A result that could not be cached shows its first rows (ResultTable).

import { useEffect, useRef } from 'preact/hooks';
import { fmtBytes } from '/js/rows.js';
import { Grid } from './Grid.jsx';
import { Panel, specFor, updateView, viewOf } from './panel.js';
import { ResultTable } from './ResultTable.jsx';
import { cacheUse } from './store.js';
import './ResultPanel.css';

function Search({ cell, value }) {
  const timer = useRef(null);
  return (
    <input class="panel-search" data-testid="grid-search" type="search" placeholder="Search all columns" value={value}
      spellcheck={false} aria-label="Search all columns"
      onInput={(e) => {
        const t = e.currentTarget.value;
        clearTimeout(timer.current);
        timer.current = setTimeout(() => updateView(cell, { search: t }), 300);
      }}
      onKeyDown={(e) => { e.stopPropagation(); if (e.key === 'Enter') updateView(cell, { search: e.currentTarget.value }); }} />
  );
}

export function ResultPanel({ cell }) {
  const result = cell.result.value;
  const view = viewOf(cell);
  cell.view.value; // re-render on its changes
  cell.panel ??= new Panel();
  const panel = cell.panel;
  const spec = result ? specFor(view, result) : null;
  const specKey = JSON.stringify(spec);
  useEffect(() => {
    if (result?.cacheTable) panel.open(result, spec);
    else panel.close();
  }, [result, specKey]);
  if (!result) return null;
  if (!result.cacheTable) return <ResultTable result={result} />;
  const use = cacheUse.value;
  return (
    <div class="result-panel" data-testid="result-panel">
      <div class="panel-bar">
        <div class="view-switch" data-testid="view-switch" role="tablist">
          <button role="tab" data-view="grid" aria-selected="true" class="on">Grid</button>
        </div>
        <Search cell={cell} value={view.search} />
        {(view.sort.length > 0 || view.filter.length > 0 || view.search) && (
          <button data-testid="clear-view" title="Clear the sort, the filters and the search"
            onClick={() => updateView(cell, { sort: [], filter: [], search: '' })}>Clear</button>
        )}
        <span class="panel-cache" data-testid="cache-use"
          title={`Every result is cached in the browser's DuckDB. This one: ${fmtBytes(result.cacheBytes ?? 0)}; all cells: ${use.count} results.`}>
          cached {fmtBytes(result.cacheBytes ?? 0)} · all {fmtBytes(use.bytes)}
        </span>
      </div>
      <Grid cell={cell} panel={panel} />
    </div>
  );
}
