// Plan.jsx: the last EXPLAIN or EXPLAIN ANALYZE (plan.js) in the inspector.
// A split query's plan is a tree: each operator marked with its site in
// colour (browser, server), each bridge with its direction and estimated
// rows and bytes, and after EXPLAIN ANALYZE what it measured.  Any other
// plan is DuckDB's own text, with the site it ran at.

import { fmtBytes, fmtInt, fmtMs } from '/js/rows.js';
import { shownPlan } from './plan.js';
import './Plan.css';

const SITE_NAME = { local: 'browser', remote: 'server', server: 'server', hybrid: 'browser + server' };

function Bridge({ b, measured }) {
  return (
    <span class="bridge" data-testid="plan-bridge" data-from={b.from} data-to={b.to}>
      <span class="dir">BRIDGE {SITE_NAME[b.from]} → {SITE_NAME[b.to]}</span>
      <span class="rel">{b.relation}</span>
      <span class="est">est. {fmtInt.format(b.estRows)} rows, {b.estBytes}</span>
      {measured && (
        <span class="measured" data-testid="plan-measured">
          moved {fmtInt.format(measured.rows)} rows, {fmtBytes(measured.bytes)} in {fmtMs(measured.ms)}
        </span>
      )}
    </span>
  );
}

export function Plan() {
  const p = shownPlan.value;
  if (!p) return <p class="empty">Run EXPLAIN or EXPLAIN ANALYZE in a cell to see its plan here.</p>;
  return (
    <div class="plan" data-testid="plan" data-kind={p.key}>
      <p class="meta">
        {p.key === 'analyzed_plan' ? 'EXPLAIN ANALYZE' : 'EXPLAIN'} · {SITE_NAME[p.site] ?? p.site}
        {p.final && ` · final query in the ${SITE_NAME[p.final.site]}, ${fmtMs(p.final.ms)}`}
      </p>
      {p.nodes.length > 0 && (
        <>
          <p class="legend"><span class="site local">browser</span> <span class="site remote">server</span></p>
          <ul class="tree">
            {p.nodes.map((n) => (
              <li class={`node ${n.site}`} data-testid="plan-node" data-site={n.site} data-depth={n.depth}>
                <span class="indent" data-depth={Math.min(n.depth, 12)} />
                <span class="site-mark" title={SITE_NAME[n.site]} />
                {n.bridge ? <Bridge b={n.bridge} measured={p.measured[n.bridge.name]} /> : <span>{n.text}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {p.text && <pre class="duckdb-plan" data-testid="plan-text">{p.text}</pre>}
    </div>
  );
}
