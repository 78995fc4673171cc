// ResultPanel.jsx: the results panel under a SQL cell: every result is
// cached in duckdb-wasm (runtime.js) and shown here whole, as a grid
// (Grid.jsx: the search box and the grid's sort and filters are SQL on that
// table, in the browser), a pivot or a chart (Pivot.jsx).  A result that
// could not be cached shows its first rows (ResultTable).

import { useEffect, useRef } from 'preact/hooks';
import { fmtBytes } from '/js/rows.js';
import { ColumnExplorer } from './ColumnExplorer.jsx';
import { ExportMenu } from './ExportMenu.jsx';
import { Grid } from './Grid.jsx';
import { defaultPivot, Panel, specFor, updateView, viewOf } from './panel.js';
import { Pivot } from './Pivot.jsx';
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

const VIEWS = [['grid', 'Grid', 'Every row: sort, filter, search'],
  ['pivot', 'Pivot', 'Group by, split by, aggregates (DuckDB in the browser)'],
  ['chart', 'Chart', 'Bar, line, area, scatter, heatmap']];

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
          {VIEWS.map(([kind, label, title]) => (
            <button role="tab" data-view={kind} aria-selected={view.kind === kind} class={view.kind === kind ? 'on' : ''} title={title}
              onClick={() => updateView(cell, kind !== 'grid' && !Object.keys(view.pivot).length && panel.state.peek().columns
                ? { kind, pivot: defaultPivot(panel.state.peek().columns) } : { kind })}>{label}</button>
          ))}
        </div>
        {view.kind === 'grid' && <Search cell={cell} value={view.search} />}
        {view.kind === 'grid' && (view.sort.length > 0 || view.filter.length > 0 || view.search) && (
          <button data-testid="clear-view" title="Clear the sort, the filters and the search"
            onClick={() => updateView(cell, { sort: [], filter: [], search: '' })}>Clear</button>
        )}
        {view.kind === 'grid' && (
          <button class={view.explorer ? 'on' : ''} data-testid="explorer-toggle" aria-pressed={!!view.explorer}
            title="Each column's nulls, distinct values, histogram or top values" onClick={() => updateView(cell, { explorer: !view.explorer })}>
            Columns
          </button>
        )}
        <ExportMenu cell={cell} panel={panel} />
        <span class="panel-cache" data-testid="cache-use"
          title={`Every result is cached in the browser's DuckDB. This one: ${fmtBytes(result.cacheBytes ?? 0)}; all cells: ${use.count} results.`}>
          cached {fmtBytes(result.cacheBytes ?? 0)} · all {fmtBytes(use.bytes)}
        </span>
      </div>
      {view.kind === 'grid'
        ? (
          <div class="panel-body">
            <Grid cell={cell} panel={panel} />
            {view.explorer && <ColumnExplorer panel={panel} />}
          </div>
        )
        : <Pivot cell={cell} kind={view.kind} table={result.cacheTable} />}
    </div>
  );
}
