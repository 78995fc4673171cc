// ColumnExplorer.jsx: the result's columns at a glance (as in MotherDuck
// and the DuckDB UI): a strip per column with its type, share of NULLs,
// approximate distinct count and a small histogram (numbers, times) or its
// most frequent values; a click shows one column's details (min, max,
// mean, quantiles, a finer histogram, the 20 most frequent values).
// Computed in duckdb-wasm over the panel's current view (its filters and
// search), one query per column, one column at a time, and only while the
// explorer is open: moving on cancels the query under way.

import { useEffect, useState } from 'preact/hooks';
import { fmtInt } from '/js/rows.js';
import { session } from './store.js';
import './ColumnExplorer.css';

/** A share as "25%" or "12.5%". */
function pct(part, whole) {
  if (!whole) return '';
  const v = (100 * part) / whole;
  return `${Number.isInteger(v) ? v : v.toFixed(1)}%`;
}

function Bars({ bins, count, wide = false }) {
  const k = new Array(count).fill(0);
  for (const b of bins ?? []) if (b.b >= 0 && b.b < count) k[b.b] = Number(b.k);
  const max = Math.max(1, ...k);
  const w = wide ? 6 : 4;
  const h = wide ? 60 : 22;
  return (
    <svg class="explorer-bars" width="100%" height={h} viewBox={`0 0 ${count * w} ${h}`} preserveAspectRatio="none" aria-hidden="true">
      {k.map((n, i) => <rect x={i * w} y={h - (h * n) / max} width={w - 1} height={(h * n) / max} />)}
    </svg>
  );
}

/** The most frequent values with their counts (`scale` > 1: counted in a sample, shown estimated). */
function TopValues({ top, total, scale = 1 }) {
  const max = Math.max(1, ...(top ?? []).map((t) => Number(t.k)));
  return (
    <ul class="explorer-top">
      {(top ?? []).map((t) => (
        <li>
          <span class="explorer-top-bar" style={{ width: `${(100 * Number(t.k)) / max}%` }} />
          <span class={`explorer-top-value${t.v === null ? ' null' : ''}`}>{t.v === null ? 'NULL' : t.v === '' ? '(empty)' : t.v}</span>
          <span class="explorer-top-count">{scale === 1 ? '' : '≈'}{fmtInt.format(Math.round(Number(t.k) * scale))} · {pct(Math.round(Number(t.k) * scale), total)}</span>
        </li>
      ))}
    </ul>
  );
}

function Strip({ col, p, onOpen }) {
  const n = Number(p?.n ?? 0);
  return (
    <button class="explorer-strip" data-testid="column-summary" data-column={col.name} data-state={p ? 'ready' : 'loading'}
      onClick={onOpen} title={p?.sampled ? `Details. The ${p.bins ? 'histogram' : 'top values'} here come from a ${p.sampled}% sample of the rows; the details read them all.` : 'Details'}>
      <span class="explorer-name">{col.name}</span>
      <small class="explorer-type">{col.type}</small>
      {p ? (
        <span class="explorer-figures">
          <span data-testid="summary-nulls">{pct(n - Number(p.nn), n)} null</span>
          <span data-testid="summary-distinct">≈{fmtInt.format(Number(p.d))} distinct</span>
        </span>
      ) : <span class="explorer-figures">…</span>}
      {p?.bins && <Bars bins={p.bins} count={16} />}
      {p?.top && <TopValues top={p.top.slice(0, 3)} total={n} scale={p.sampled ? 100 / p.sampled : 1} />}
      {p?.sampled && <small class="explorer-sampled">{p.bins ? 'histogram' : 'top values'} of a {p.sampled}% sample</small>}
    </button>
  );
}

function Details({ col, p, onBack }) {
  const n = Number(p?.n ?? 0);
  return (
    <div class="explorer-details" data-testid="column-details" data-column={col.name} data-state={p ? 'ready' : 'loading'}>
      <button class="explorer-back" data-testid="explorer-back" onClick={onBack}>‹ All columns</button>
      <h4>{col.name} <small>{col.type}</small></h4>
      {!p && <p class="explorer-loading">computing…</p>}
      {p && (
        <>
          <dl class="explorer-stats">
            <dt>rows</dt><dd>{fmtInt.format(n)}</dd>
            <dt>null</dt><dd>{fmtInt.format(n - Number(p.nn))} ({pct(n - Number(p.nn), n)})</dd>
            <dt>distinct</dt><dd>≈{fmtInt.format(Number(p.d))}</dd>
            {p.lo_text !== undefined && <><dt>min</dt><dd data-testid="detail-min">{p.lo_text ?? 'NULL'}</dd></>}
            {p.hi_text !== undefined && <><dt>max</dt><dd data-testid="detail-max">{p.hi_text ?? 'NULL'}</dd></>}
            {p.mean && <><dt>mean</dt><dd data-testid="detail-mean">{p.mean}</dd></>}
            {p.quantiles && ['5%', '25%', '50%', '75%', '95%'].map((q, i) => <><dt>{q}</dt><dd>{p.quantiles[i]}</dd></>)}
          </dl>
          {p.bins && <Bars bins={p.bins} count={40} wide />}
          {p.top && <TopValues top={p.top} total={n} />}
        </>
      )}
    </div>
  );
}

export function ColumnExplorer({ panel }) {
  const st = panel.state.value;
  const [profiles, setProfiles] = useState({}); // column -> profile, for st.view
  const [open, setOpen] = useState(null); // the column whose details show
  const [detail, setDetail] = useState(null);
  const [error, setError] = useState(null);
  const view = st.state === 'ready' ? st.view : null;

  // the strips, one column at a time, in order
  useEffect(() => {
    if (!view || open) return undefined;
    let gone = false;
    setProfiles({});
    setError(null);
    (async () => {
      for (const c of st.columns) {
        if (gone) return;
        try {
          const p = await session.peek().panel({ op: 'profile', view, column: c.name });
          if (!gone) setProfiles((old) => ({ ...old, [c.name]: p }));
        } catch (e) {
          if (!gone && e.code !== 'CANCELLED') setError(e.message);
          return;
        }
      }
    })();
    return () => { gone = true; session.peek()?.panel({ op: 'stopProfile' }).catch(() => {}); };
  }, [view, open]);

  // one column's details
  useEffect(() => {
    if (!view || !open) return undefined;
    let gone = false;
    setDetail(null);
    session.peek().panel({ op: 'profile', view, column: open, detail: true }).then((p) => { if (!gone) setDetail(p); },
      (e) => { if (!gone && e.code !== 'CANCELLED') setError(e.message); });
    return () => { gone = true; session.peek()?.panel({ op: 'stopProfile' }).catch(() => {}); };
  }, [view, open]);

  if (!st.columns) return null;
  const col = open && st.columns.find((c) => c.name === open);
  return (
    <aside class="explorer" data-testid="column-explorer" aria-label="Column explorer">
      {error && <p class="explorer-error">{error}</p>}
      {col ? <Details col={col} p={detail} onBack={() => setOpen(null)} />
        : st.columns.map((c) => <Strip col={c} p={profiles[c.name]} onOpen={() => setOpen(c.name)} />)}
    </aside>
  );
}
