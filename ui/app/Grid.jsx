// Grid.jsx: the results panel's grid, our own, over a Panel (panel.js):
// virtual rows and columns (only what is on screen is on the page; any row
// of a 10M-row result is one scroll away), values as DuckDB prints them
// (text from duckdb-wasm), NULL apart from '', numbers right-aligned, long
// text cut with the whole value on demand, nested values expandable.
// Sort (click a header; Shift+click adds a key), a filter box per column,
// column resize, reorder (drag a header), hide and pin; select cells
// (click, Shift+click, drag, the arrow keys) and copy them as TSV (Ctrl+C).
//
// Layout: a scroll container holds a canvas as large as the rows (at most
// MAX_PX: past that the scroll bar is scaled and the wheel moves by rows),
// and a sticky viewport on which the header, the filter row and the rows
// on screen are placed from the scroll offsets.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { CELL_CHARS, filterText, parseFilterText } from '/js/result_sql.js';
import { fmtInt } from '/js/rows.js';
import { CellValue } from './CellValue.jsx';
import { copyText } from './clipboard.js';
import { shownColumns, updateView, viewOf } from './panel.js';
import './Grid.css';

export const ROW_H = 24;
const HEAD_H = 34;
const FILTER_H = 28;
const TOP_H = HEAD_H + FILTER_H;
const NUM_W = 64;       // the row number column
const MAX_PX = 8e6;     // tallest canvas (browsers cap element sizes near 3.3e7 px)
const MAX_GRID_H = 420;
const MIN_COL_W = 48;
const COPY_MAX_CELLS = 2e6;

/** Where the rows on screen start: {first, offsetY} from the scroll offset. */
function rowPlacement(top, rowCount, viewH) {
  const rowsPx = rowCount * ROW_H;
  const bodyH = Math.min(rowsPx, MAX_PX);
  const maxScroll = Math.max(0, TOP_H + bodyH - viewH);
  const rowsScroll = Math.max(0, rowsPx - (viewH - TOP_H));
  const px = maxScroll > 0 ? Math.min(top, maxScroll) * (rowsScroll / maxScroll) : 0;
  const first = Math.floor(px / ROW_H);
  return { first, offsetY: -(px - first * ROW_H), bodyH, maxScroll, rowsScroll };
}

/** TSV of rows of texts (a field with a tab, newline or quote is quoted). */
const tsv = (rows) => rows.map((r) => r.map((v) => {
  if (v === null) return '';
  return /[\t\n\r"]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}).join('\t')).join('\n');

function SortIndicator({ sort, name }) {
  const i = sort.findIndex(([c]) => c === name);
  if (i < 0) return null;
  return (
    <span class="sort" data-testid="sort-indicator" data-dir={sort[i][1]}>
      {sort[i][1] === 'asc' ? '▲' : '▼'}{sort.length > 1 ? <sub>{i + 1}</sub> : null}
    </span>
  );
}

/** The next sort after a click on column `name` (asc, desc, none; with `add` the other keys stay). */
function nextSort(sort, name, add) {
  const cur = sort.find(([c]) => c === name)?.[1];
  const dir = cur === undefined ? 'asc' : cur === 'asc' ? 'desc' : null;
  const rest = add ? sort.filter(([c]) => c !== name) : [];
  if (!dir) return rest;
  if (add && cur) return sort.map(([c, d]) => (c === name ? [c, dir] : [c, d]));
  return [...rest, [name, dir]];
}

function FilterBox({ cell, col, filter }) {
  const shown = filterText(col.name, filter, col.kind);
  const [text, setText] = useState(shown);
  useEffect(() => setText(shown), [shown]);
  const apply = (t) => {
    const others = filter.filter(([c]) => c !== col.name);
    updateView(cell, { filter: [...others, ...parseFilterText(col.name, col.kind, t)] });
  };
  const timer = useRef(null);
  return (
    <input class="grid-filter" data-testid="filter-input" data-column={col.name} value={text} spellcheck={false}
      placeholder={col.kind === 'number' || col.kind === 'time' ? '=, <, 1..9, null' : col.kind === 'text' ? 'contains, /re/, null' : 'filter'}
      title={'Filter: text (contains), /regex/, =x, !=x, >x, a..b (a range), a, b (one of: numbers), =a, b (one of: text), null, !null'}
      onInput={(e) => {
        const t = e.currentTarget.value;
        setText(t);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => apply(t), 400);
      }}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') { clearTimeout(timer.current); apply(text); }
        if (e.key === 'Escape') { clearTimeout(timer.current); setText(''); apply(''); }
      }} />
  );
}

function ColumnMenu({ cell, col, index, view, onClose }) {
  const layout = view.columns;
  const act = (fn) => () => { fn(); onClose(); };
  const setSort = (dir) => updateView(cell, { sort: [[col.name, dir]] });
  return (
    <div class="grid-menu" data-testid="column-menu" onMouseDown={(e) => e.stopPropagation()}>
      <button onClick={act(() => setSort('asc'))}>Sort ascending</button>
      <button onClick={act(() => setSort('desc'))}>Sort descending</button>
      <button onClick={act(() => updateView(cell, { filter: view.filter.filter(([c]) => c !== col.name) }))}>Clear filter</button>
      <button data-testid="column-hide" onClick={act(() => updateView(cell, { columns: { ...layout, hidden: [...layout.hidden, col.name] } }))}>Hide column</button>
      <button data-testid="column-pin" onClick={act(() => updateView(cell, { columns: { ...layout, pinned: index + 1 } }))}>Pin up to here</button>
      {layout.pinned > 0 && <button onClick={act(() => updateView(cell, { columns: { ...layout, pinned: 0 } }))}>Unpin columns</button>}
    </div>
  );
}

export function Grid({ cell, panel }) {
  const st = panel.state.value;
  panel.version.value; // re-render when rows arrive
  cell.view.value; // and when the panel's state changes
  const view = viewOf(cell);
  const scroller = useRef(null);
  const [scroll, setScroll] = useState({ top: 0, left: 0 });
  const [size, setSize] = useState({ w: 800, h: MAX_GRID_H });
  const [sel, setSel] = useState(null); // {a: {r, c}, f: {r, c}}: anchor and focus; c indexes the shown columns
  const [menu, setMenu] = useState(null); // column name whose menu is open
  const [detail, setDetail] = useState(null); // {row, column}
  const [note, setNote] = useState(null);
  const frame = useRef(0);
  const drag = useRef(null);
  const resized = useRef(false);

  useLayoutEffect(() => {
    const el = scroller.current;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // (and at once when a render changed the grid's own height: what is on screen is known before the next frame)
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el.clientWidth !== size.w || el.clientHeight !== size.h) setSize({ w: el.clientWidth, h: el.clientHeight });
  });

  const cols = st.columns ? shownColumns(st.columns, view.columns) : [];
  const rowCount = st.rowCount ?? 0;
  const pinned = Math.min(view.columns.pinned, cols.length);
  const xs = [];
  let x = NUM_W;
  for (const c of cols) { xs.push(x); x += c.width; }
  const totalW = x;
  const pinnedW = pinned ? xs[pinned - 1] + cols[pinned - 1].width : NUM_W;
  const left = Math.min(scroll.left, Math.max(0, totalW - size.w)); // (a narrower result sends no scroll event)
  const place = rowPlacement(scroll.top, rowCount, size.h);
  const visibleCount = Math.max(1, Math.ceil((size.h - TOP_H) / ROW_H) + 1);
  const last = Math.min(rowCount - 1, place.first + visibleCount - 1);

  useEffect(() => { if (rowCount) panel.want(place.first, last); });
  // a new sort, filter or search starts at the top; a new result at the top left
  const specKey = JSON.stringify(st.spec ?? null);
  const lastResult = useRef(null);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = 0;
    if (lastResult.current !== st.result) el.scrollLeft = 0;
    lastResult.current = st.result;
    setScroll({ top: 0, left: el.scrollLeft });
    setSel(null);
  }, [specKey, st.result]);
  // the automation API reads what is on screen
  // (the rows more than half on screen)
  const bodyViewH = size.h - TOP_H;
  const screenFirst = place.offsetY < -ROW_H / 2 ? place.first + 1 : place.first;
  const screenLast = Math.min(last, place.first + Math.floor((bodyViewH - place.offsetY - ROW_H / 2) / ROW_H));
  panel.screen = { first: Math.min(screenFirst, Math.max(0, rowCount - 1)), last: screenLast, cols };
  panel.scrollToRow = (n) => {
    const el = scroller.current;
    const target = Math.max(0, Math.min(rowCount - 1, n)) * ROW_H;
    // (rounded down: a scaled scroll bar's pixel is several rows, and row n must not pass above the top)
    el.scrollTop = place.rowsScroll ? Math.floor(target * (place.maxScroll / place.rowsScroll)) : 0;
    setScroll({ top: el.scrollTop, left: el.scrollLeft });
  };

  const shownCols = []; // [col, index] on screen: the pinned ones, then those in view
  cols.forEach((c, i) => {
    if (i < pinned || (xs[i] + c.width > left + pinnedW && xs[i] < left + size.w)) shownCols.push(i);
  });
  const colLeft = (i) => (i < pinned ? xs[i] : xs[i] - left);

  const onScroll = () => {
    // ask for the rows now (they are read while the frame is drawn), not after the render
    const el = scroller.current;
    if (el && rowCount) {
      const at = rowPlacement(el.scrollTop, rowCount, size.h);
      panel.want(at.first, Math.min(rowCount - 1, at.first + visibleCount - 1));
    }
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = scroller.current;
      if (el) setScroll({ top: el.scrollTop, left: el.scrollLeft });
    });
  };
  // Past MAX_PX a pixel of scroll bar is several rows: the wheel moves by rows then.
  const onWheel = (e) => {
    if (place.rowsScroll <= place.maxScroll || e.deltaY === 0 || e.shiftKey) return;
    e.preventDefault();
    const el = scroller.current;
    const step = (e.deltaY * place.maxScroll) / place.rowsScroll;
    el.scrollTop += Math.sign(step) * Math.max(1, Math.abs(step));
  };

  const inSel = (r, c) => {
    if (!sel) return false;
    const [r0, r1] = [Math.min(sel.a.r, sel.f.r), Math.max(sel.a.r, sel.f.r)];
    const [c0, c1] = [Math.min(sel.a.c, sel.f.c), Math.max(sel.a.c, sel.f.c)];
    return r >= r0 && r <= r1 && c >= c0 && c <= c1;
  };
  const cellAt = (target) => {
    const el = target.closest?.('[data-r]');
    return el ? { r: Number(el.dataset.r), c: Number(el.dataset.c) } : null;
  };
  const onMouseDown = (e) => {
    if (e.button !== 0) return;
    const at = cellAt(e.target);
    if (!at) return;
    e.preventDefault();
    scroller.current.focus({ preventScroll: true });
    setSel(e.shiftKey && sel ? { a: sel.a, f: at } : { a: at, f: at });
    drag.current = e.shiftKey && sel ? sel.a : at;
    const up = () => { drag.current = null; window.removeEventListener('mouseup', up); };
    window.addEventListener('mouseup', up);
  };
  const onMouseOver = (e) => {
    if (!drag.current) return;
    const at = cellAt(e.target);
    if (at) setSel({ a: drag.current, f: at });
  };

  /** Scroll so that row r and shown column c are on screen. */
  const reveal = (r, c) => {
    const el = scroller.current;
    const rows = Math.floor((size.h - TOP_H) / ROW_H);
    if (r < place.first) panel.scrollToRow(r);
    else if (r >= place.first + rows) panel.scrollToRow(r - rows + 1);
    if (c >= pinned) {
      if (xs[c] - el.scrollLeft < pinnedW) el.scrollLeft = xs[c] - pinnedW;
      else if (xs[c] + cols[c].width - el.scrollLeft > size.w) el.scrollLeft = xs[c] + cols[c].width - size.w;
    }
  };

  const copySelection = async () => {
    if (!sel) return;
    const [r0, r1] = [Math.min(sel.a.r, sel.f.r), Math.max(sel.a.r, sel.f.r)];
    const [c0, c1] = [Math.min(sel.a.c, sel.f.c), Math.max(sel.a.c, sel.f.c)];
    const picked = cols.slice(c0, c1 + 1);
    if ((r1 - r0 + 1) * picked.length > COPY_MAX_CELLS) {
      setNote(`Copy takes at most ${fmtInt.format(COPY_MAX_CELLS)} cells: export the result instead`);
      return;
    }
    setNote('copying…');
    const rows = await panel.text(r0, r1, picked.map((c) => c.index));
    const text = tsv(r0 === r1 && c0 === c1 ? rows : [picked.map((c) => c.name), ...rows]);
    await copyText(text);
    panel.copied = text;
    setNote(`copied ${fmtInt.format(rows.length)} row${rows.length === 1 ? '' : 's'} × ${picked.length} column${picked.length === 1 ? '' : 's'}`);
  };

  const onKeyDown = (e) => {
    if (!rowCount || !cols.length) return;
    const f = sel?.f ?? { r: place.first, c: 0 };
    const page = Math.max(1, Math.floor((size.h - TOP_H) / ROW_H) - 1);
    const moves = {
      ArrowDown: [1, 0], ArrowUp: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], PageDown: [page, 0], PageUp: [-page, 0],
    };
    let to = null;
    if (moves[e.key]) to = { r: f.r + moves[e.key][0], c: f.c + moves[e.key][1] };
    else if (e.key === 'Home') to = { r: e.ctrlKey ? 0 : f.r, c: 0 };
    else if (e.key === 'End') to = { r: e.ctrlKey ? rowCount - 1 : f.r, c: cols.length - 1 };
    else if ((e.ctrlKey || e.metaKey) && e.key === 'a') {
      e.preventDefault();
      setSel({ a: { r: 0, c: 0 }, f: { r: rowCount - 1, c: cols.length - 1 } });
      return;
    } else if ((e.ctrlKey || e.metaKey) && e.key === 'c') {
      e.preventDefault();
      copySelection().catch((err) => setNote(`copy failed: ${err.message}`));
      return;
    } else if (e.key === 'Enter' && sel) {
      e.preventDefault();
      setDetail({ row: f.r, column: cols[f.c].name });
      return;
    } else if (e.key === 'Escape') {
      if (detail) setDetail(null);
      else if (sel) setSel(null);
      else return;
      e.stopPropagation();
      return;
    }
    if (!to) return;
    e.preventDefault();
    e.stopPropagation();
    to = { r: Math.max(0, Math.min(rowCount - 1, to.r)), c: Math.max(0, Math.min(cols.length - 1, to.c)) };
    setSel(e.shiftKey && sel ? { a: sel.a, f: to } : { a: to, f: to });
    reveal(to.r, to.c);
  };

  // column resize (the header's right edge) and reorder (drag a header onto another)
  // (mouse events: a mousedown whose default is prevented starts no drag of the header)
  const startResize = (e, col) => {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX;
    const w0 = col.width;
    const move = (ev) => {
      const w = Math.max(MIN_COL_W, Math.round(w0 + ev.clientX - x0));
      const layout = viewOf(cell).columns;
      updateView(cell, { columns: { ...layout, widths: { ...layout.widths, [col.name]: w } } });
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      resized.current = true; // the click that ends the drag does not sort
      setTimeout(() => { resized.current = false; }, 0);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };
  const moveColumn = (name, before) => {
    if (name === before) return;
    const layout = viewOf(cell).columns;
    const order = shownColumns(st.columns, { ...layout, hidden: [] }).map((c) => c.name).filter((n) => n !== name);
    order.splice(order.indexOf(before), 0, name);
    updateView(cell, { columns: { ...layout, order } });
  };

  const header = shownCols.map((i) => {
    const c = cols[i];
    return (
      <div class={`grid-head${c.kind === 'number' ? ' num' : ''}${i < pinned ? ' pinned' : ''}`} data-testid="grid-header"
        data-column={c.name} style={{ left: `${colLeft(i)}px`, width: `${c.width}px` }} draggable
        title={`${c.name} ${c.type}: click to sort, Shift+click to add to the sort, drag to move`}
        onDragStart={(e) => { e.dataTransfer.setData('text/x-md-column', c.name); e.dataTransfer.effectAllowed = 'move'; }}
        onDragOver={(e) => { if (e.dataTransfer.types.includes('text/x-md-column')) e.preventDefault(); }}
        onDrop={(e) => { e.preventDefault(); moveColumn(e.dataTransfer.getData('text/x-md-column'), c.name); }}
        onClick={(e) => { if (!resized.current) updateView(cell, { sort: nextSort(view.sort, c.name, e.shiftKey) }); }}>
        <span class="grid-head-name">{c.name}</span>
        <SortIndicator sort={view.sort} name={c.name} />
        <small class="grid-head-type">{c.type}</small>
        <button class="grid-head-menu" data-testid="column-menu-button" title="Column menu" aria-label={`${c.name} menu`}
          onClick={(e) => { e.stopPropagation(); setMenu(menu === c.name ? null : c.name); }}>⋮</button>
        <span class="grid-resize" data-testid="column-resize" title="Drag to resize" onMouseDown={(e) => startResize(e, c)}
          onClick={(e) => e.stopPropagation()} />
        {menu === c.name && <ColumnMenu cell={cell} col={c} index={i} view={view} onClose={() => setMenu(null)} />}
      </div>
    );
  });
  const filters = shownCols.map((i) => (
    <div class={`grid-filter-cell${i < pinned ? ' pinned' : ''}`} style={{ left: `${colLeft(i)}px`, width: `${cols[i].width}px` }}>
      <FilterBox cell={cell} col={cols[i]} filter={view.filter} />
    </div>
  ));

  const rows = [];
  for (let r = place.first; r <= last; r++) {
    const data = panel.row(r);
    const top = TOP_H + place.offsetY + (r - place.first) * ROW_H;
    rows.push(
      <div class={`grid-row${data ? '' : ' loading'}`} data-testid="grid-row" data-row-index={r} style={{ top: `${top}px` }} key={r}>
        <div class="grid-num" style={{ width: `${NUM_W}px` }}>{fmtInt.format(r + 1)}</div>
        {shownCols.map((i) => {
          const c = cols[i];
          const v = data?.[c.index];
          const cut = typeof v === 'string' && v.length > CELL_CHARS;
          const cls = `grid-cell${v === null ? ' null' : ''}${c.kind === 'number' ? ' num' : ''}${i < pinned ? ' pinned' : ''}`
            + `${inSel(r, i) ? ' selected' : ''}${sel && sel.f.r === r && sel.f.c === i ? ' focus' : ''}`;
          return (
            <div class={cls} data-testid="grid-cell" data-r={r} data-c={i} style={{ left: `${colLeft(i)}px`, width: `${c.width}px` }}
              onDblClick={() => setDetail({ row: r, column: c.name })}>
              {data === undefined ? '' : v === null ? 'NULL' : cut ? `${v.slice(0, CELL_CHARS)}…` : v}
              {(cut || (c.kind === 'nested' && v !== null && data)) && (
                <button class="grid-more" data-testid="cell-expand" title={cut ? 'Show the whole value' : 'Expand'}
                  onMouseDown={(e) => e.stopPropagation()} onClick={() => setDetail({ row: r, column: c.name })}>{cut ? '⋯' : '▸'}</button>
              )}
            </div>
          );
        })}
      </div>,
    );
  }

  const shownFirst = rowCount ? place.first + 1 : 0;
  const shownLast = rowCount ? Math.min(rowCount, panel.screen.last + 1) : 0;
  const gridH = Math.min(MAX_GRID_H, TOP_H + Math.max(1, rowCount) * ROW_H + 16);
  return (
    <div class="grid-wrap">
      <div class="grid" data-testid="grid" data-row-count={rowCount} data-state={st.state} tabIndex={0} ref={scroller}
        style={{ height: `${gridH}px` }} onScroll={onScroll} onWheel={onWheel} onKeyDown={onKeyDown}
        onMouseDown={onMouseDown} onMouseOver={onMouseOver} onClick={() => setMenu(null)}>
        <div class="grid-canvas" style={{ width: `${totalW}px`, height: `${TOP_H + place.bodyH}px` }}>
          <div class="grid-viewport" style={{ width: `${size.w}px`, height: `${size.h}px` }}>
            {rows}
            <div class="grid-top" style={{ height: `${TOP_H}px` }}>
              <div class="grid-corner" style={{ width: `${NUM_W}px` }}>#</div>
              {header}
              {filters}
            </div>
            {rowCount === 0 && st.state === 'ready' && <p class="grid-empty">No rows{view.filter.length || view.search ? ' match the filters' : ''}</p>}
          </div>
        </div>
      </div>
      <div class="grid-foot" data-testid="grid-foot">
        <span data-testid="grid-range">{st.state === 'loading' ? 'reading…' : st.state === 'error' ? st.error
          : `rows ${fmtInt.format(shownFirst)}–${fmtInt.format(shownLast)} of ${fmtInt.format(rowCount)}`}</span>
        {note && <span class="grid-note">{note}</span>}
        {view.columns.hidden.length > 0 && (
          <button data-testid="show-hidden" onClick={() => updateView(cell, { columns: { ...view.columns, hidden: [] } })}>
            Show {view.columns.hidden.length} hidden column{view.columns.hidden.length === 1 ? '' : 's'}
          </button>
        )}
      </div>
      {detail && <CellValue panel={panel} row={detail.row} column={detail.column} onClose={() => { setDetail(null); scroller.current?.focus(); }} />}
    </div>
  );
}
