// Pivot.jsx: a cell's result as a pivot table or a chart: Perspective's
// viewer (pivot_viewer.js, loaded on first use) with DuckDB in duckdb-wasm
// doing every aggregation.  Its configuration (group by, split by,
// columns, aggregates, sort, filters, chart type) is kept in the cell's
// panel state (cell.view.pivot), so it is saved with the notebook; a change
// made in the viewer's own settings is saved the same way.

import { useEffect, useRef, useState } from 'preact/hooks';
import { pivotClient } from './pivot.js';
import { updateView } from './panel.js';
import { theme } from './store.js';
import './Pivot.css';

/** The configuration keys the panel keeps, in Perspective's shapes. */
export const PIVOT_KEYS = ['group_by', 'split_by', 'columns', 'aggregates', 'sort', 'filter', 'plugin', 'group_rollup_mode'];

const dark = () => theme.value === 'dark'
  || (theme.value === 'system' && window.matchMedia?.('(prefers-color-scheme: dark)').matches);

/** The viewer configuration for `kind` ('pivot' | 'chart') from the saved one. */
export function viewerConfig(kind, saved = {}, table, title) {
  const c = { table, title, settings: false, theme: dark() ? 'Pro Dark' : 'Pro Light' };
  // (restore keeps what it is not given: a configuration says everything it wants)
  Object.assign(c, { group_by: [], split_by: [], sort: [], filter: [], aggregates: {} });
  for (const k of PIVOT_KEYS) if (saved[k] !== undefined) c[k] = saved[k];
  c.plugin = kind === 'chart' ? (saved.chart ?? 'Y Bar') : 'Datagrid';
  return c;
}

export function Pivot({ cell, kind, table }) {
  const saved = cell.view.value?.pivot ?? {}; // (read here: this component re-renders when it changes)
  const host = useRef(null);
  const viewer = useRef(null);
  const pending = useRef(null); // the restore under way
  const [error, setError] = useState(null);
  const [state, setState] = useState('loading');
  const title = () => cell.name.peek() || 'result';

  useEffect(() => {
    let gone = false;
    const el = document.createElement('perspective-viewer');
    el.dataset.testid = 'pivot';
    el.dataset.state = 'loading';
    host.current.append(el);
    viewer.current = el;
    const save = async () => {
      if (gone || el.dataset.state !== 'ready') return;
      const now = await el.save();
      const next = {};
      for (const k of PIVOT_KEYS) if (k !== 'plugin' && now[k] !== undefined) next[k] = now[k];
      if (kind === 'chart') next.chart = now.plugin;
      const pivot = { ...(cell.view.peek()?.pivot ?? {}), ...next };
      if (JSON.stringify(pivot) === JSON.stringify(cell.view.peek()?.pivot)) return;
      el.dataset.applied = JSON.stringify(pivot); // (the viewer shows it already: no restore)
      updateView(cell, { pivot });
    };
    el.addEventListener('perspective-config-update', () => { save().catch(() => {}); });
    (async () => {
      const client = await pivotClient();
      if (gone) return;
      await el.load(client);
      pending.current = el.restore(viewerConfig(kind, saved, table, title())).then(() => el.flush());
      await pending.current;
      if (gone) return;
      el.dataset.state = 'ready';
      el.dataset.applied = JSON.stringify(saved ?? {});
      el.dataset.theme = theme.peek();
      setState('ready');
    })().catch((e) => {
      if (gone) return;
      el.dataset.state = 'error';
      setError(e?.message ?? String(e));
      setState('error');
    });
    return () => {
      gone = true;
      el.remove();
      // deleted once what it is doing is done (deleting it during a restore breaks that restore's queries)
      Promise.resolve(pending.current).catch(() => {}).then(() => el.delete?.()).catch(() => {});
    };
  }, [table, kind]);

  // a configuration set from outside (mdApp.panel(i).setPivot, a notebook opened) or a new theme: restore it
  const savedKey = JSON.stringify(saved ?? {});
  useEffect(() => {
    const el = viewer.current;
    if (!el || state !== 'ready') return;
    if (el.dataset.applied === savedKey && el.dataset.theme === theme.value) return; // shown already
    el.dataset.state = 'loading';
    el.dataset.theme = theme.value;
    pending.current = el.restore(viewerConfig(kind, saved, table, title())).then(() => el.flush()).then(() => {
      el.dataset.state = 'ready';
      el.dataset.applied = savedKey; // (what automation waits for)
    }, (e) => { el.dataset.state = 'error'; setError(e?.message ?? String(e)); });
  }, [savedKey, state, theme.value]);

  return (
    <div class="pivot-wrap">
      {kind === 'pivot' && (
        <p class="pivot-hint">Open the viewer's settings (« at its top right) and drag columns to group by, split by and pick aggregates; DuckDB in the browser computes them.</p>
      )}
      <div class="pivot-host" ref={host} />
      {error && <p class="pivot-error" data-testid="pivot-error">{error}</p>}
    </div>
  );
}
