// panel.js: the results panel of a SQL cell, on its cached result (every
// result is a table in duckdb-wasm, runtime.js).  The panel's state lives
// in cell.view (saved with the notebook):
//   {kind: 'grid'|'pivot'|'chart', sort: [[col, dir]], filter: [[col, op, value]], search,
//    columns: {order: [names], hidden: [names], widths: {name: px}, pinned: n},
//    pivot: {group_by, split_by, columns, aggregates, sort, filter, chart},
//    explorer: the column explorer is open}
// sort and filter have Perspective's shapes (the pivot takes them as they
// are).  The rows come from the session worker's views (result_views.js),
// a window at a time: a Panel keeps the windows it read, in blocks, and
// asks for the blocks the grid shows.  window.mdApp.panel(i) is the
// automation API over it (README: "The results panel").

import { signal } from '@preact/signals';
import { session } from './store.js';

/** Rows per block the panel asks the worker for. */
export const BLOCK = 100;
/** Blocks kept per panel (the others are read again when scrolled back to). */
const KEEP_BLOCKS = 300;

let ownerSeq = 0;

/** A cell's panel state with every field present. */
export function viewOf(cell) {
  const v = cell.view.peek() ?? {};
  return {
    kind: v.kind ?? 'grid',
    sort: v.sort ?? [],
    filter: v.filter ?? [],
    search: v.search ?? '',
    columns: { order: [], hidden: [], widths: {}, pinned: 0, ...(v.columns ?? {}) },
    pivot: v.pivot ?? {},
    explorer: !!v.explorer,
  };
}

/**
 * What the worker's view of `result` is asked for: the sort and filters of
 * panel state `view` that name columns of the result (a re-run may have
 * other columns; the others stay in the state for a later run), and the search.
 */
export function specFor(view, result) {
  const names = new Set((result.columns ?? []).map((c) => c.name));
  return {
    sort: view.sort.filter(([c]) => names.has(c)),
    filter: view.filter.filter(([c]) => names.has(c)),
    search: view.search,
  };
}

/**
 * A first pivot of a result's columns ({name, kind}), for a panel that has
 * none yet: grouped by its first text, boolean or time column (else its
 * first column), the sum of up to three number columns (else the count of
 * rows).  (Perspective's view without a group by copies every row.)
 */
export function defaultPivot(columns) {
  const by = columns.find((c) => ['text', 'boolean', 'time'].includes(c.kind)) ?? columns[0];
  if (!by) return {};
  const nums = columns.filter((c) => c.kind === 'number' && c !== by).slice(0, 3).map((c) => c.name);
  return nums.length
    ? { group_by: [by.name], columns: nums, aggregates: Object.fromEntries(nums.map((n) => [n, 'sum'])) }
    : { group_by: [by.name], columns: [by.name], aggregates: { [by.name]: 'count' } };
}

/** Change part of a cell's panel state (saved with the notebook). */
export function updateView(cell, patch) {
  cell.view.value = { ...(cell.view.peek() ?? {}), ...patch };
}

/**
 * The rows of one cell's result as its panel shows them.  open() (again
 * whenever the result, the sort, the filters or the search change) asks
 * the worker for a view and its first rows; row(i) answers what was read
 * and asks for the rest (version changes when rows arrive).
 */
export class Panel {
  #blocks = new Map(); // block index -> rows (Map order: oldest first)
  #loading = new Set();
  #wanted = null; // [first, last] rows the grid shows
  #opened = null; // resolves when the current open() is done
  #waiters = []; // {first, last, resolve} waiting for rows

  constructor() {
    this.owner = `panel${++ownerSeq}`;
    /** {state: 'empty'|'loading'|'ready'|'error', view, rowCount, columns, error, result, table, spec} */
    this.state = signal({ state: 'empty' });
    /** Bumped when rows arrive. */
    this.version = signal(0);
  }

  /**
   * Open the view of a cell's result ({cacheTable, ...}; a new object when
   * it ran again or more rows arrived) with spec {sort, filter, search}.
   */
  open(result, spec) {
    const s = this.state.peek();
    const table = result.cacheTable;
    if (s.result === result && JSON.stringify(s.spec) === JSON.stringify(spec) && s.state !== 'error') return this.#opened;
    this.#blocks.clear();
    this.#loading.clear();
    this.state.value = { ...s, state: 'loading', result, table, spec, error: null };
    const p = session.peek().panel({ op: 'open', owner: this.owner, table, view: spec, limit: BLOCK }).then((r) => {
      if (this.state.peek().result !== result || this.state.peek().spec !== spec) return;
      this.#blocks.set(0, r.rows);
      this.state.value = { state: 'ready', view: r.view, rowCount: r.rowCount, columns: r.columns, result, table, spec };
      this.version.value += 1;
      this.#fetch();
    }, (e) => {
      if (this.state.peek().spec === spec) this.state.value = { ...this.state.peek(), state: 'error', error: e.message };
    });
    this.#opened = p;
    return p;
  }

  /** Close the worker's view (the cell's result went away). */
  close() {
    this.state.value = { state: 'empty' };
    this.#blocks.clear();
    session.peek()?.panel({ op: 'close', owner: this.owner }).catch(() => {});
  }

  /** Row i as texts (null for NULL), or undefined while it is being read. */
  row(i) {
    const b = this.#blocks.get(Math.floor(i / BLOCK));
    return b?.[i % BLOCK];
  }

  /** The grid shows rows [first, last]: read the blocks it lacks. */
  want(first, last) {
    this.#wanted = [first, last];
    this.#fetch();
  }

  /** Resolves when rows [first, last] are read (for automation and copying). */
  whenRows(first, last) {
    return new Promise((resolve) => {
      this.#waiters.push({ first, last, resolve });
      this.want(first, last);
      this.#settle();
    });
  }

  #has(first, last) {
    const s = this.state.peek();
    if (s.state !== 'ready') return false;
    const end = Math.min(last, s.rowCount - 1);
    for (let b = Math.floor(first / BLOCK); b <= Math.floor(end / BLOCK); b++) if (!this.#blocks.has(b)) return false;
    return true;
  }

  #settle() {
    this.#waiters = this.#waiters.filter((w) => {
      if (!this.#has(w.first, w.last)) return true;
      w.resolve();
      return false;
    });
  }

  #fetch() {
    const s = this.state.peek();
    if (s.state !== 'ready' || !this.#wanted) return;
    const [first, last] = this.#wanted;
    const end = Math.min(last, s.rowCount - 1);
    for (let b = Math.floor(first / BLOCK); b <= Math.floor(end / BLOCK); b++) {
      if (this.#blocks.has(b) || this.#loading.has(b)) continue;
      this.#loading.add(b);
      session.peek().panel({ op: 'window', view: s.view, offset: b * BLOCK, limit: BLOCK }).then((r) => {
        if (this.state.peek().view !== s.view) return;
        this.#loading.delete(b);
        this.#blocks.set(b, r.rows);
        while (this.#blocks.size > KEEP_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value);
        this.version.value += 1;
        this.#settle();
      }, () => { this.#loading.delete(b); });
    }
  }

  /** Rows [first, last] of the given columns (indices), whole values, for copying. */
  async text(first, last, columns) {
    const s = this.state.peek();
    const out = [];
    for (let at = first; at <= last; at += 5000) {
      const r = await session.peek().panel({ op: 'window', view: s.view, offset: at, limit: Math.min(5000, last - at + 1), full: true });
      for (const row of r.rows) out.push(columns.map((c) => row[c]));
    }
    return out;
  }

  /** The whole value of row `row`, column `column`, at `path` (result_views.js value). */
  value(row, column, path = []) {
    return session.peek().panel({ op: 'value', view: this.state.peek().view, row, column, path });
  }
}

/** Columns in the order and with the widths the panel shows them: [{name, type, kind, width, index}]. */
export function shownColumns(columns, layout) {
  const byName = new Map(columns.map((c, index) => [c.name, { ...c, index }]));
  const ordered = [...layout.order.filter((n) => byName.has(n)).map((n) => byName.get(n)),
    ...columns.filter((c) => !layout.order.includes(c.name)).map((c) => byName.get(c.name))];
  return ordered.filter((c) => !layout.hidden.includes(c.name))
    .map((c) => ({ ...c, width: layout.widths[c.name] ?? defaultWidth(c) }));
}

function defaultWidth(c) {
  if (c.kind === 'number' || c.kind === 'boolean') return 110;
  if (c.kind === 'time') return 190;
  return 160;
}

/** Resolves when `ok()` holds, checked each frame (rejects after `ms`). */
function until(ok, ms = 60000, what = 'the results panel') {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      let v;
      try { v = ok(); } catch (e) { reject(e); return; }
      if (v) resolve(v);
      else if (performance.now() - t0 > ms) reject(new Error(`${what} did not settle in ${ms} ms`));
      else requestAnimationFrame(check);
    };
    check();
  });
}

/**
 * window.mdApp.panel(i): the results panel of cell i (from 0, in notebook
 * order) for automation.  Sort and filters have Perspective's shapes.
 * Each call resolves once the panel shows the change.
 */
export function panelApi(cell) {
  const grid = () => document.querySelector(`[data-cell-id="${cell.id}"] [data-testid="grid"]`);
  const settled = () => until(() => {
    const p = cell.panel;
    const s = p?.state.peek();
    if (!s || s.state === 'error') throw new Error(s?.error ?? 'the cell has no result');
    if (s.state !== 'ready' || s.result !== cell.result.peek()) return false;
    if (JSON.stringify(s.spec) !== JSON.stringify(specFor(viewOf(cell), s.result))) return false;
    const el = grid();
    if (!el || el.dataset.state !== 'ready' || !p.screen) return false;
    const { first, last } = p.screen;
    for (let r = first; r <= last; r++) if (!p.row(r)) return false;
    return !el.querySelector('.grid-row.loading') && el;
  });
  const viewer = () => document.querySelector(`[data-cell-id="${cell.id}"] [data-testid="pivot"]`);
  const pivotSettled = () => until(() => {
    const el = viewer();
    if (el?.dataset.state === 'error') throw new Error('the pivot failed');
    return el?.dataset.state === 'ready' && el;
  });
  const isPivot = () => viewOf(cell).kind !== 'grid';
  return {
    /**
     * Show the result as a pivot (or keep the chart) with `config`
     * {group_by, split_by, columns, aggregates, sort?, filter?, chart?}.
     */
    async setPivot(config) {
      const pivot = { ...config };
      updateView(cell, { kind: viewOf(cell).kind === 'chart' ? 'chart' : 'pivot', pivot });
      await until(() => viewer()?.dataset.applied === JSON.stringify(viewOf(cell).pivot) && viewer().dataset.state === 'ready');
      await pivotSettled();
    },
    /** Show 'grid', 'pivot' or 'chart'. */
    async show(kind) {
      const s = cell.panel?.state.peek();
      const first = kind !== 'grid' && !Object.keys(viewOf(cell).pivot).length && s?.columns;
      updateView(cell, first ? { kind, pivot: defaultPivot(s.columns) } : { kind });
      await (kind === 'grid' ? settled() : until(() => viewer()).then(pivotSettled));
    },
    async setSort(sort) { updateView(cell, { sort }); await settled(); },
    async setFilter(filter) { updateView(cell, { filter }); await settled(); },
    async setSearch(search) { updateView(cell, { search }); await settled(); },
    /** Back to the result as it came: no sort, filter or search; every column, in order. */
    reset() { cell.view.value = {}; },
    async scrollToRow(n) {
      await settled();
      cell.panel.scrollToRow(n);
      await until(() => cell.panel.screen.first <= n && n <= cell.panel.screen.last);
      await settled();
    },
    /** The rows on screen, each an array of the texts shown (the row number left out; a pivot's row labels in). */
    async visibleRows() {
      if (isPivot()) {
        const table = (await pivotSettled()).querySelector('perspective-viewer-datagrid')?.shadowRoot?.querySelector('regular-table table');
        if (!table) return [];
        return [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.children]
          .filter((c) => !c.classList.contains('psp-tree-spacer') && !(c.tagName === 'TH' && c.textContent === '' && !c.classList.contains('psp-tree-label')))
          .map((c) => c.textContent));
      }
      const el = await settled();
      const { first, last } = cell.panel.screen;
      return [...el.querySelectorAll('[data-testid="grid-row"]')]
        .filter((r) => Number(r.dataset.rowIndex) >= first && Number(r.dataset.rowIndex) <= last)
        .map((r) => [...r.querySelectorAll('[data-testid="grid-cell"]')].map((c) => c.firstChild?.nodeType === 3 ? c.firstChild.textContent : c.textContent));
    },
    /** The column explorer's profile of `column` over the current view (result_views.js profile). */
    async profile(column, { detail = false } = {}) {
      await settled();
      return session.peek().panel({ op: 'profile', view: cell.panel.state.peek().view, column, detail });
    },
    /** {rowCount, columns: [{name, type}], table: the result's cache table} of the panel's current view. */
    async info() {
      await settled();
      const s = cell.panel.state.peek();
      return { rowCount: s.rowCount, columns: s.columns.map((c) => ({ name: c.name, type: c.type })), table: s.table,
        cacheBytes: s.result.cacheBytes ?? null };
    },
  };
}
