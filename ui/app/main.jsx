// main.jsx: the workspace's entry (ui/workspace.html loads its bundle,
// build/ui/app/app.js).  Renders the App, logs in with the URL's or the
// stored token, then opens a notebook (notebooks.js: the link's, the most
// recent, or a new one).  For automation, window.mdApp: ready (resolves when
// the session is up and a notebook is open), run(sql) (as a scratch
// cell: one {site, rowCount, ms} per statement shown, or a rejection with
// the error), panel(i) (cell i's results panel, panel.js panelApi),
// cacheTables() (how many tables the browser's result cache holds) and
// localQuery(sql) (SQL run bare in the browser's DuckDB, for benchmarks).

import { render } from 'preact';
import { App } from './App.jsx';
import './history.js'; // records every run
import { startNotebooks } from './notebooks.js';
import { loadSqlWords } from './sql_words.js';
import { panelApi } from './panel.js';
import { cells, loginFromUrlOrStorage, runSql, session } from './store.js';

let resolveReady;
const ready = new Promise((res) => { resolveReady = res; });
window.mdApp = {
  ready,
  async run(sql) {
    const out = await runSql(sql);
    return out.results.map((r) => ({ site: r.site, rowCount: r.rowCount, ms: r.ms }));
  },
  /**
   * Run SQL in the browser's DuckDB directly (the results panel's own
   * connection, no driver, no cell): resolves to {rows: count, ms}, with
   * `ipc` to {bytes: its size as Arrow IPC, ms}.  The benchmarks' peer: the
   * same SQL bare in duckdb-wasm, in this page.
   */
  async localQuery(sql, { ipc = false } = {}) {
    const t0 = performance.now();
    const out = await session.peek().panel({ op: 'pivot', sql, as: ipc ? 'ipc' : 'rows' });
    return ipc ? { bytes: out.length, ms: performance.now() - t0 } : { rows: out.length, ms: performance.now() - t0 };
  },
  /** How many tables the browser's result cache holds. */
  async cacheTables() {
    return (await session.peek().panel({ op: 'cache' })).tables.length;
  },
  panel(i) {
    const cell = cells.peek()[i];
    if (!cell) throw new Error(`the notebook has no cell ${i}`);
    return panelApi(cell);
  },
};
session.subscribe((s) => {
  if (!s) return;
  startNotebooks().catch(() => { /* notebookError says why */ }).finally(() => {
    performance.mark('md:workspace-ready'); // the benchmarks' "interactive"
    resolveReady();
  });
  loadSqlWords().catch(() => { /* completion then offers the catalog only */ });
});

render(<App />, document.getElementById('app'));
loginFromUrlOrStorage().catch(() => { /* the login form shows why */ });
