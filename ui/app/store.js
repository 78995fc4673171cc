// store.js: the workspace's one store.  Components read its signals and call
// its intents; only the session worker (../js/session.js) runs SQL.
//
// State: the connection, the session, both catalogs as the engine caches
// them, the open notebook's cells (each with its own signals, so typing in
// one cell re-renders only that cell), the inspector's tab and catalog
// item, the panes and the theme.  Runs go through one queue (exclusive).
// The open notebook's place on the server (its id, version, saving) is
// notebooks.js's; history.js, table_summary.js, plan.js, sql_words.js and
// data_files.js keep what their parts of the page show.

import { computed, effect, signal } from '@preact/signals';
import { ident } from '/js/localdb.js';
import { Session } from '/js/session.js';
import { TOKEN_KEY, takeToken } from '/js/token.js';
import { cellNameProblem, plainCell } from './doc.js';
import { focusEditor } from './focus.js';
import { showIfPlan } from './plan.js';

const THEME_KEY = 'mdserver.theme';

export const conn = signal({ state: 'starting', text: 'starting…' });
export const loginError = signal(null);
export const session = signal(null);
export const catalog = signal({ databases: [] });
export const selected = signal(null); // {name, database, schema, table, site} shown in the inspector
export const inspectorTab = signal('table'); // 'table' | 'history' | 'plan'
// The cell the user is on (its id) and whether its editor has the keys
// ('edit') or the notebook has them ('command', as in Jupyter: Esc).
export const currentCell = signal(null);
export const mode = signal('edit');
// the side panes shown (the header's toggles collapse them)
export const leftOpen = signal(true);
export const rightOpen = signal(true);
export const theme = signal(localStorage.getItem(THEME_KEY) ?? 'system');

let cellSeq = 0;

/**
 * A cell from a plain one ({id, type, name, source}, doc.js): `id` here is
 * the page's own number for it, `key` the stored id.
 */
export function newCell(plain = {}) {
  const p = plainCell(typeof plain === 'string' ? { source: plain } : plain);
  return {
    id: ++cellSeq,
    key: p.id,
    type: signal(p.type),   // 'sql' | 'markdown'
    name: signal(p.name),   // '' or the name later cells query its result by
    source: signal(p.source),
    editing: signal(false), // a Markdown cell shows its editor (else its rendering)
    running: signal(false),
    progress: signal(null),
    status: signal(null), // {site, rowCount, ms, hybrid?} of the last statement shown
    result: signal(null), // {columns, rows, rowCount, cacheTable, cacheBytes}: cacheTable holds every row
    resultName: null,     // the name its result was last kept under (a temporary view), if any
    error: signal(null),  // {code, message, position}
    view: signal(p.view ?? {}), // the results panel's state (panel.js), saved with the notebook
  };
}

/** A cell as the stored document holds it. */
export const plainOf = (c) => plainCell({ id: c.key, type: c.type.value, name: c.name.value, source: c.source.value,
  view: c.view.value });

/** Bytes the cells' cached results hold in duckdb-wasm, and how many there are. */
export const cacheUse = computed(() => {
  let bytes = 0;
  let count = 0;
  for (const c of cells.value) {
    const r = c.result.value;
    if (r?.cacheTable) { count += 1; bytes += r.cacheBytes ?? 0; }
  }
  return { bytes, count };
});

/**
 * A cell's result leaves the browser (the cell was deleted, turned into
 * Markdown, or its notebook closed): its cache table and the temporary
 * view named after it are dropped.
 */
function releaseResult(cell) {
  const s = session.peek();
  const table = cell.result.peek()?.cacheTable;
  const name = cell.resultName;
  cell.result.value = null;
  cell.status.value = null;
  cell.resultName = null;
  if (!s) return;
  if (table) s.dropResult(table).catch(() => {});
  if (name) exclusive(() => s.run(`DROP VIEW IF EXISTS temp.main.${ident(name)}`, {}, { keep: 'none' })).catch(() => {});
}

export const cells = signal([newCell()]);
const deleted = []; // cells deleted in command mode, with where they were: Z puts the last back

/** Replace every cell (a notebook opened): the first one current, in command mode. */
export function setCells(plainCells) {
  for (const c of cells.peek()) releaseResult(c);
  const list = plainCells.map(newCell);
  cells.value = list;
  deleted.length = 0;
  currentCell.value = list[0]?.id ?? null;
  mode.value = 'command';
}

/** Put the keyboard in `cell`'s editor (now if it is on the page, else once it is). */
export function editCell(cell) {
  if (cell.type.value === 'markdown') cell.editing.value = true;
  currentCell.value = cell.id;
  mode.value = 'edit';
  focusEditor(cell.id); // now, or as soon as its editor is made
}

/** Leave the editor: the notebook takes the keys, `cell` stays current. */
export function commandMode(cell) {
  currentCell.value = cell.id;
  mode.value = 'command';
}

/** The cell `delta` places from the current one (clamped), made current. */
export function moveCurrent(delta) {
  const list = cells.value;
  const i = list.findIndex((c) => c.id === currentCell.value);
  const next = list[Math.min(list.length - 1, Math.max(0, i + delta))];
  if (next) currentCell.value = next.id;
}

export function deleteCell(cell) {
  const list = [...cells.value];
  const i = list.indexOf(cell);
  if (i < 0) return;
  list.splice(i, 1);
  releaseResult(cell); // (Z brings the cell back, without its result)
  deleted.push({ cell, at: i });
  if (!list.length) list.push(newCell());
  cells.value = list;
  currentCell.value = list[Math.min(i, list.length - 1)].id;
}

export function undoDelete() {
  const d = deleted.pop();
  if (!d) return;
  const list = [...cells.value];
  list.splice(Math.min(d.at, list.length), 0, d.cell);
  cells.value = list;
  currentCell.value = d.cell.id;
}

editCell(cells.value[0]);

/** Turn a cell into Markdown or SQL (command mode's M and Y). */
export function setCellType(cell, type) {
  if (cell.type.value === type) return;
  cell.type.value = type;
  cell.error.value = null;
  if (type === 'markdown') releaseResult(cell);
}

/** Insert a new cell after `cell` (at the end without one; before it with
 * `above`); returns it. */
export function addCell(cell = null, source = '', { above = false, type = 'sql' } = {}) {
  const c = newCell({ source, type });
  const list = [...cells.value];
  const at = cell ? list.indexOf(cell) + (above ? 0 : 1) : list.length;
  list.splice(at, 0, c);
  cells.value = list;
  return c;
}

export function setTheme(t) {
  theme.value = t;
  localStorage.setItem(THEME_KEY, t);
}

// light, dark, or the system's: App.css reads <html data-theme>
effect(() => { document.documentElement.dataset.theme = theme.value; });

export async function refreshCatalog() {
  if (session.value) catalog.value = await session.value.catalog();
}

/** Log in with `token`: the session worker starts; the catalog follows. */
export async function login(token) {
  conn.value = { state: 'connecting', text: 'connecting…' };
  loginError.value = null;
  try {
    const s = await Session.start({ token });
    const w = s.welcome;
    const label = () => `${w.user}${w.read_only ? ' (read-only)' : ''} · local DuckDB ${s.bundle}`;
    s.addEventListener('status', (ev) => {
      const d = ev.detail;
      conn.value = d.state === 'open' ? { state: 'open', text: label() } : { state: d.state, text: d.state };
    });
    s.addEventListener('catalog', () => { refreshCatalog().catch(() => {}); });
    session.value = s;
    conn.value = { state: 'open', text: label() };
    await refreshCatalog();
    return s;
  } catch (e) {
    if (e.code === 'AUTH_FAILED') localStorage.removeItem(TOKEN_KEY);
    conn.value = { state: 'unauthorized', text: 'not logged in' };
    loginError.value = e.message;
    throw e;
  }
}

/** Log in with the URL's or the stored token, if there is one. */
export function loginFromUrlOrStorage() {
  const token = takeToken();
  if (!token) {
    conn.value = { state: 'unauthorized', text: 'not logged in' };
    return Promise.reject(Object.assign(new Error('no token'), { code: 'AUTH_FAILED' }));
  }
  return login(token);
}

export function storeToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

let queue = Promise.resolve();

/**
 * Run `fn` (which uses the session) after everything queued before it: the
 * session runs one script at a time, so a cell run while another runs (or
 * a table summary asked meanwhile) waits its turn.
 */
export function exclusive(fn) {
  const p = queue.then(fn, fn);
  queue = p.catch(() => {});
  return p;
}

/** Called after every run with {sql, out} or {sql, error, ms} (history.js records them). */
export const afterRun = new Set();

/**
 * Run `sql` as a cell would; resolves with the session's {results, ms} and
 * fills the cell's signals when one is given.
 */
export async function runSql(sql, cell = null) {
  const s = session.value;
  if (!s) throw Object.assign(new Error('not logged in'), { code: 'AUTH_FAILED' });
  let before = null; // the cell's result when its run starts (after those queued before it)
  let resultName;
  const t0 = performance.now();
  if (cell) {
    cell.running.value = true;
    cell.error.value = null;
    cell.progress.value = null;
  }
  try {
    const out = await exclusive(() => {
      before = cell?.result.peek()?.cacheTable ?? null;
      resultName = cell ? resultNameOf(cell) : undefined;
      return s.run(sql, {
        onProgress: (p) => { if (cell) cell.progress.value = p.percent; },
        onRows: (r) => { if (cell) cell.result.value = r; },
      }, { resultName, keep: cell ? 'last' : 'none' });
    });
    // the cell's previous result leaves the browser's cache
    if (before && before !== out.results.at(-1)?.cacheTable) s.dropResult(before).catch(() => {});
    if (cell) {
      const last = out.results.at(-1) ?? null;
      if (cell.resultName && cell.resultName !== resultName) { // renamed since: the old name goes
        const old = cell.resultName;
        exclusive(() => s.run(`DROP VIEW IF EXISTS temp.main.${ident(old)}`, {}, { keep: 'none' })).catch(() => {});
      }
      cell.resultName = resultName ?? null;
      cell.result.value = last;
      cell.status.value = last ? { site: last.site, rowCount: last.rowCount, ms: last.ms, hybrid: last.hybrid }
        : { site: null, rowCount: 0, ms: out.ms };
    }
    if (showIfPlan(cell, out.results.at(-1))) inspectorTab.value = 'plan';
    for (const fn of afterRun) fn({ sql, out });
    return out;
  } catch (e) {
    if (cell) {
      cell.error.value = { code: e.code, message: e.message, position: e.position };
      cell.status.value = null;
    }
    for (const fn of afterRun) fn({ sql, error: e, ms: performance.now() - t0 });
    throw e;
  } finally {
    if (cell) {
      cell.running.value = false;
      cell.progress.value = null;
    }
  }
}

/** Ask the running cell's statement to stop (its error then says CANCELLED). */
export function cancelRun() {
  return session.value?.cancel() ?? false;
}

/** The name a cell's result is kept under: its name if valid, else none. */
function resultNameOf(cell) {
  const others = cells.peek().filter((c) => c !== cell).map((c) => c.name.peek());
  const name = cell.name.peek();
  return name && !cellNameProblem(name, others) ? name : undefined;
}

/**
 * Run a SQL cell, or the part [from, to) of its text (the selection, the
 * statement at the cursor); an error's position stays one in the cell's
 * text.  A Markdown cell: show its rendering.
 */
export async function runCell(cell, { from = 0, to = null } = {}) {
  if (cell.type.value === 'markdown') {
    cell.editing.value = false;
    return;
  }
  const text = cell.source.peek();
  try {
    await runSql(text.slice(from, to ?? text.length), cell);
  } catch { /* shown in the cell */ }
  const err = cell.error.peek();
  if (from && err && typeof err.position === 'number') cell.error.value = { ...err, position: err.position + from };
}

/** Run the statement of `cell` that holds text offset `at` (split by the engine's lexer, as the router splits). */
export async function runStatementAt(cell, at) {
  let spans;
  try {
    spans = await session.peek().statements(cell.source.peek());
  } catch (e) { // text the lexer cannot read (an unclosed quote): said in the cell
    cell.error.value = { code: e.code, message: e.message, position: e.position };
    return;
  }
  const span = spans.find((sp) => at <= sp.end + 1) ?? spans.at(-1);
  return span ? runCell(cell, { from: span.start, to: span.end }) : runCell(cell);
}

/** Run the SQL cells in order (those above `cell` only, with `above`); stops at the first that fails. */
export async function runAll({ above = null } = {}) {
  const list = cells.value;
  const end = above ? list.indexOf(above) : list.length;
  const me = (runAllSeq += 1);
  for (const c of list.slice(0, end)) {
    if (c.type.value !== 'sql') continue;
    await runCell(c);
    if (c.error.value || runAllSeq !== me) break;
  }
}

let runAllSeq = 0;

/** Stop a Run all (the cells after the running one stay as they were) and cancel the running cell. */
export function cancelAll() {
  runAllSeq += 1;
  return cancelRun();
}
