// bench/lib.mjs: what the page benchmarks (bench/browser.mjs,
// bench/workspace.mjs) share: the median, progress lines, the BENCH line
// each prints (as bench/report.c prints it for the C benchmarks; with
// --json-dir DIR also DIR/<name>.json), and the bare duckdb-wasm page that
// is the peer of the start-up figures.
import { writeFileSync } from 'node:fs';

const jsonDir = process.argv.includes('--json-dir') ? process.argv[process.argv.indexOf('--json-dir') + 1] : null;

// The same rows as bench/mdbench.c's xfer table.
export const ROWS_SQL = (n) => "SELECT i AS a, (i % 100003)::DOUBLE / 7 AS b, 'x' || substr(md5(i::VARCHAR), 1, 19) AS c, "
  + `TIMESTAMP '2020-01-01' + i * INTERVAL 1 SECOND AS d FROM range(${n}) t(i)`;

export const say = (s) => console.log(`  ${s}`);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Print (and keep) one benchmark's figure: ours / peer against the target; returns whether it passed. */
export function report({ name, unit, ours, peer, target, higherIsBetter, extra = {}, error }) {
  const ratio = error ? NaN : ours / peer;
  const pass = !error && Number.isFinite(ratio) && (higherIsBetter ? ratio >= target : ratio <= target);
  const op = higherIsBetter ? '>=' : '<=';
  const fmt = (v) => (Number.isFinite(v) ? (unit === 'rows/s' ? v.toFixed(0) : v.toFixed(1)) : 'nan');
  if (error) say(`error: ${error}`);
  console.log(`BENCH ${name} ours=${fmt(ours)}${unit === 'ms' ? 'ms' : ''} peer=${fmt(peer)}${unit === 'ms' ? 'ms' : ''} `
    + `ratio=${Number.isFinite(ratio) ? ratio.toFixed(3) : 'nan'} target=${op}${target.toFixed(2)} ${pass ? 'PASS' : 'MISS'}`);
  if (jsonDir) {
    const o = {
      name, unit, ours: error ? null : ours, peer: error ? null : peer,
      ratio: Number.isFinite(ratio) ? ratio : null, target, target_op: op, pass, ...extra,
    };
    if (error) o.error = error;
    writeFileSync(`${jsonDir}/${name}.json`, `${JSON.stringify(o, null, '\t')}\n`);
  }
  return pass;
}

// A bare page on the server's origin (served by the browser context, with
// the same isolation headers) that only starts duckdb-wasm (the same
// bundle) and shows a local SELECT 42: the floor of any duckdb-wasm page.
const BARE_HTML = `<!doctype html><meta charset="utf-8"><title>peer</title><p id="out"></p>
<script type="module">
const duckdb = await import('/vendor/duckdb/duckdb.mjs');
const base = location.origin + '/vendor/duckdb/';
const eh = { mainModule: base + 'duckdb-eh.wasm', mainWorker: base + 'duckdb-browser-eh.worker.js' };
const bundle = await duckdb.selectBundle({ mvp: eh, eh, coi: { mainModule: base + 'duckdb-coi.wasm',
  mainWorker: base + 'duckdb-browser-coi.worker.js', pthreadWorker: base + 'duckdb-browser-coi.pthread.worker.js' } });
const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), new Worker(bundle.mainWorker));
await db.instantiate(bundle.mainModule, bundle.pthreadWorker);
performance.mark('peer:instantiated');
const conn = await db.connect();
await conn.query('SET autoload_known_extensions = false');
const t = await conn.query('SELECT 42 AS answer');
document.getElementById('out').textContent = String(t.toArray()[0].answer);
performance.mark('peer:result-shown');
</script>`;

/**
 * Open the bare duckdb-wasm page in browser `b` (tests/lib/browser.mjs);
 * resolves to {total: ms to its result on screen, instantiated, isolated}.
 */
export async function barePage(b, http) {
  const { page, context } = b;
  await context.route(`${http}/bench-peer.html`, (route) => route.fulfill({
    status: 200, contentType: 'text/html; charset=utf-8', body: BARE_HTML,
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  }));
  await page.goto(`${http}/bench-peer.html`);
  await page.waitForFunction(() => performance.getEntriesByName('peer:result-shown').length > 0, null, { timeout: 60000 });
  return page.evaluate(() => ({
    total: performance.getEntriesByName('peer:result-shown')[0].startTime,
    instantiated: performance.getEntriesByName('peer:instantiated')[0].startTime,
    isolated: self.crossOriginIsolated,
  }));
}
