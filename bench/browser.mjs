// bench/browser.mjs: the page benchmarks of `make bench` (run by bench/run.sh;
// docs/benchmarks.md says what each measures).  Debian's Chromium driven by
// playwright-core against a ./mdserver of its own on 127.0.0.1.
//
//   page_first_result  navigation to the first remote result on screen, ms,
//                      cold (a fresh browser profile per run, so nothing is
//                      cached and duckdb-wasm is fetched and compiled);
//                      peer: a bare page on the same origin that only starts
//                      duckdb-wasm (same bundle) and shows a local SELECT 42,
//                      the floor of any duckdb-wasm page.
//   browser_ingest     a 1M-row remote result (BIGINT, DOUBLE, VARCHAR,
//                      TIMESTAMP) streamed into the page's result cache,
//                      rows/s; peer (the limit): duckdb-wasm in the same page
//                      generating the same rows into a table itself (the
//                      CREATE TABLE run through the same session, so both
//                      pay the worker's round trip).
//   hybrid_join_page   (with --hybrid-join-page, against bench/run.sh's server
//                      that holds facts) the join of bench/hybrid.c's
//                      hybrid_join run from the page: the local dimension in
//                      duckdb-wasm, the split plan by the same C driver in the
//                      page's session worker, ms from run() to the result on
//                      the main thread; peer: the native host's median for
//                      the same join in the same run (hybrid_join's "ours").
//
// Output: BENCH lines as bench/report.c prints them; with --json-dir DIR one
// JSON object per benchmark in DIR/<name>.json.
// Environment: MDBENCH_RUNS [7] (first result: at most 5 cold runs each),
// MDBENCH_INGEST_ROWS [1000000].
import { readFileSync } from 'node:fs';
import { startServer, createToken } from '../tests/lib/server.mjs';
import { launch } from '../tests/lib/browser.mjs';
import { MdClient } from '../tests/lib/mdclient.mjs';
import { ROWS_SQL, barePage, median, report, say } from './lib.mjs';

const RUNS = Number(process.env.MDBENCH_RUNS ?? 7);
const INGEST_ROWS = Number(process.env.MDBENCH_INGEST_ROWS ?? 1000000);

async function firstResultOurs(srv, token) {
  const b = await launch();
  try {
    const { page } = b;
    await page.goto(`${srv.http}/#token=${token}`);
    await page.evaluate(() => window.mdPage.ready);
    await page.fill('[data-testid="sql-input"]', 'SELECT 42 AS answer');
    await page.click('[data-testid="run"]');
    await page.waitForFunction(() => performance.getEntriesByName('md:result-shown').length > 0);
    return await page.evaluate(() => {
      const m = (n) => performance.getEntriesByName(n)[0].startTime;
      const nav = performance.getEntriesByType('navigation')[0];
      const t = window.mdPage.runtime.timings;
      const shown = m('md:result-shown');
      const ready = m('md:ready');
      return {
        total: shown,
        page_load: nav.domContentLoadedEventEnd,
        duckdb_instantiate: t.duckdb_instantiate,
        login: t.login,
        ready,
        query: shown - ready,
        bundle: window.mdPage.runtime.bundle,
      };
    });
  } finally {
    await b.close();
  }
}

async function firstResultPeer(srv) {
  const b = await launch();
  try {
    return await barePage(b, srv.http);
  } finally {
    await b.close();
  }
}

async function pageFirstResult(srv, token) {
  const runs = Math.min(RUNS, 5);
  say(`== page_first_result: navigation to the first remote result on screen, cold (fresh profile), ${runs} runs`);
  const ours = [];
  const peer = [];
  for (let i = 0; i < runs; i++) { // alternate, so drift affects both sides alike
    ours.push(await firstResultOurs(srv, token));
    peer.push(await firstResultPeer(srv));
  }
  const med = (k, xs) => median(xs.map((x) => x[k]));
  const parts = {
    page_load_ms: med('page_load', ours),
    duckdb_instantiate_ms: med('duckdb_instantiate', ours),
    login_ms: med('login', ours),
    ready_ms: med('ready', ours),
    query_ms: med('query', ours),
  };
  say(`ours (median): ${med('total', ours).toFixed(0)} ms = page load ${parts.page_load_ms.toFixed(0)} ms, `
    + `then in parallel duckdb-wasm instantiate ${parts.duckdb_instantiate_ms.toFixed(0)} ms (${ours[0].bundle}) `
    + `and login ${parts.login_ms.toFixed(0)} ms, ready at ${parts.ready_ms.toFixed(0)} ms; `
    + `query to screen ${parts.query_ms.toFixed(0)} ms (includes the test driver's click)`);
  say(`peer: bare duckdb-wasm page, local SELECT 42 (median): ${med('total', peer).toFixed(0)} ms `
    + `(instantiated at ${med('instantiated', peer).toFixed(0)} ms, isolated ${peer[0].isolated})`);
  say(`all runs, ours: ${ours.map((x) => x.total.toFixed(0)).join(' ')} ms; peer: ${peer.map((x) => x.total.toFixed(0)).join(' ')} ms`);
  return report({
    name: 'page_first_result', unit: 'ms', ours: med('total', ours), peer: med('total', peer),
    target: 1.25, higherIsBetter: false,
    extra: { runs, ...parts, peer_name: 'bare duckdb-wasm page, local SELECT 42', bundle: ours[0].bundle },
  });
}

async function browserIngest(srv, token) {
  say(`== browser_ingest: ${INGEST_ROWS} rows (BIGINT, DOUBLE, VARCHAR, TIMESTAMP) into the page's cache, ${RUNS} runs`);
  const c = await MdClient.connect(srv.url, token);
  await c.rows(`CREATE OR REPLACE TABLE ingest AS ${ROWS_SQL(INGEST_ROWS)}`);
  await c.close();
  const b = await launch();
  try {
    const { page } = b;
    await page.goto(`${srv.http}/#token=${token}`);
    await page.evaluate(() => window.mdPage.ready);
    const out = await page.evaluate(async ({ runs, rowsSql, n }) => {
      const rt = window.mdPage.runtime;
      const ours = [];
      const peer = [];
      let bytes = 0;
      let check = null;
      for (let i = 0; i < runs; i++) {
        let t0 = performance.now();
        const r = await rt.run('SELECT a, b, c, d FROM ingest');
        ours.push(performance.now() - t0);
        const res = r.results[0];
        bytes = res.bytes;
        if (i === 0) {
          const t = await rt.run(`SELECT count(*)::BIGINT AS n, sum(a)::BIGINT AS s, count(DISTINCT c)::BIGINT AS dc FROM ${res.cacheTable}`);
          check = t.results[0].rows[0];
          check = { n: String(check.n), s: String(check.s), dc: String(check.dc) };
        }
        await rt.run(`DROP TABLE ${res.cacheTable}`);
        t0 = performance.now();
        await rt.run(`CREATE OR REPLACE TABLE memory.main.generated AS ${rowsSql}`);
        peer.push(performance.now() - t0);
      }
      await rt.run('DROP TABLE memory.main.generated');
      return { ours, peer, bytes, check, n };
    }, { runs: RUNS, rowsSql: ROWS_SQL(INGEST_ROWS), n: INGEST_ROWS });
    const expectSum = String((BigInt(INGEST_ROWS) * BigInt(INGEST_ROWS - 1)) / 2n);
    const complete = out.check.n === String(INGEST_ROWS) && out.check.s === expectSum;
    const oursMs = median(out.ours);
    const peerMs = median(out.peer);
    say(`ours: ${oursMs.toFixed(0)} ms median (${out.ours.map((x) => x.toFixed(0)).join(' ')}), `
      + `${(out.bytes / 1048576).toFixed(1)} MiB received; cached rows ${out.check.n}, sum ${complete ? 'correct' : 'WRONG'}`);
    say(`limit: duckdb-wasm generating the rows itself: ${peerMs.toFixed(0)} ms median (${out.peer.map((x) => x.toFixed(0)).join(' ')})`);
    return report({
      name: 'browser_ingest', unit: 'rows/s', ours: INGEST_ROWS / (oursMs / 1000), peer: INGEST_ROWS / (peerMs / 1000),
      target: 0.5, higherIsBetter: true,
      error: complete ? undefined : `the cache holds ${out.check.n} rows with sum ${out.check.s}, not ${INGEST_ROWS} / ${expectSum}`,
      extra: {
        rows: INGEST_ROWS, runs: RUNS, ours_ms: oursMs, peer_ms: peerMs, bytes_received: out.bytes,
        ours_mb_per_s: out.bytes / 1e6 / (oursMs / 1000), peer_name: 'duckdb-wasm generating the rows (CREATE TABLE AS)',
      },
    });
  } finally {
    await b.close();
  }
}

// The join of bench/hybrid.c (JOIN_SQL over its ldim), the dimension named
// in duckdb-wasm's own database.
const LDIM_SQL = "CREATE OR REPLACE TABLE memory.main.ldim AS SELECT (k * 10)::INTEGER AS k, 'name_' || k AS name, "
  + '(k % 10)::INTEGER AS grp FROM range(1000) t(k)';
const PAGE_JOIN_SQL = 'SELECT d.name, f.id, f.v FROM facts f JOIN memory.main.ldim d ON f.k = d.k WHERE d.grp = 3';

async function hybridJoinPage(http, token, native) {
  say(`== hybrid_join_page: the hybrid_join from the page (Chromium), ${RUNS} runs after 1 warm-up`);
  const b = await launch();
  try {
    const { page } = b;
    await page.goto(`${http}/#token=${token}`);
    await page.evaluate(() => window.mdPage.ready);
    const out = await page.evaluate(async ({ runs, setup, sql }) => {
      const rt = window.mdPage.runtime;
      await rt.run(setup);
      const times = [];
      let first = null;
      for (let i = 0; i <= runs; i++) {
        const t0 = performance.now();
        const r = await rt.run(sql);
        if (i > 0) times.push(performance.now() - t0);
        const res = r.results.at(-1);
        if (!first) first = { rows: res.rowCount, site: res.site, hybrid: Boolean(res.hybrid) };
        if (res.cacheTable) await rt.run(`DROP TABLE IF EXISTS ${res.cacheTable}`);
      }
      return { times, first, bundle: rt.bundle };
    }, { runs: RUNS, setup: LDIM_SQL, sql: PAGE_JOIN_SQL });
    const ms = median(out.times);
    say(`page: ${ms.toFixed(1)} ms median (${out.times.map((x) => x.toFixed(0)).join(' ')}), ${out.first.rows} rows, `
      + `duckdb-wasm ${out.bundle}; native host (hybrid_join in this run): ${native.ours.toFixed(1)} ms`);
    const rowsMatch = out.first.rows === native.result_rows;
    return report({
      name: 'hybrid_join_page', unit: 'ms', ours: ms, peer: native.ours, target: 1.3, higherIsBetter: false,
      error: rowsMatch ? undefined : `the page's join gave ${out.first.rows} rows, the native host's ${native.result_rows}`,
      extra: { runs: RUNS, result_rows: out.first.rows, peer_name: 'the native host (server/client/dual.c), hybrid_join' },
    });
  } finally {
    await b.close();
  }
}

const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : null);
if (process.argv.includes('--hybrid-join-page')) {
  let status = 0;
  try {
    const native = JSON.parse(readFileSync(arg('--native'), 'utf8'));
    if (!Number.isFinite(native.ours)) throw new Error('hybrid_join has no figure of its own in this run');
    await hybridJoinPage(arg('--http'), arg('--token'), native);
  } catch (e) {
    report({ name: 'hybrid_join_page', unit: 'ms', ours: NaN, peer: NaN, target: 1.3, higherIsBetter: false, error: e.message });
    status = 1;
  }
  process.exit(status);
}

const srv = await startServer();
let status = 0;
try {
  const token = createToken(srv.dataDir, 'bench');
  for (const bench of [pageFirstResult, browserIngest]) {
    try {
      await bench(srv, token);
    } catch (e) {
      const name = bench === pageFirstResult ? 'page_first_result' : 'browser_ingest';
      report({ name, unit: name === 'browser_ingest' ? 'rows/s' : 'ms', ours: NaN, peer: NaN,
        target: name === 'browser_ingest' ? 0.5 : 1.25, higherIsBetter: name === 'browser_ingest', error: e.message });
      status = 1;
    }
  }
} finally {
  await srv.stop({ removeData: true });
}
process.exit(status);
