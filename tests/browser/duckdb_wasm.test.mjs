// Browser test: the page's origin (a real ./mdserver on 127.0.0.1) serves
// duckdb-wasm completely: bundle, worker and wasm load in Chromium with the
// cross-origin isolation headers, a local query runs, and no request leaves
// the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';

let srv, browser;

before(async () => {
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.stop({ removeData: true });
});

test('duckdb-wasm from mdserver runs a query in Chromium, offline, cross-origin isolated', async () => {
  const { page, requests } = browser;
  await page.goto(`${srv.http}/`);
  const result = await page.evaluate(async () => {
    const duckdb = await import('/vendor/duckdb/duckdb.mjs');
    const isolated = self.crossOriginIsolated;
    const base = `${location.origin}/vendor/duckdb`;
    const bundle = await duckdb.selectBundle({
      mvp: { mainModule: `${base}/duckdb-eh.wasm`, mainWorker: `${base}/duckdb-browser-eh.worker.js` },
      eh: { mainModule: `${base}/duckdb-eh.wasm`, mainWorker: `${base}/duckdb-browser-eh.worker.js` },
    });
    const worker = new Worker(bundle.mainWorker);
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
    await db.instantiate(bundle.mainModule, bundle.pthreadWorker);
    const conn = await db.connect();
    await conn.query('SET autoload_known_extensions = false');
    await conn.query('SET autoinstall_known_extensions = false');
    const t = await conn.query('SELECT 42 AS answer, version() AS v, sum(i)::BIGINT AS s FROM range(1000) r(i)');
    const row = t.toArray()[0].toJSON();
    await conn.close();
    await db.terminate();
    return { isolated, answer: row.answer, version: row.v, sum: String(row.s) };
  });
  assert.equal(result.isolated, true, 'COOP/COEP make the page cross-origin isolated');
  assert.equal(result.answer, 42);
  assert.equal(result.sum, '499500');
  assert.match(result.version, /^v1\.4\./);
  const foreign = requests.filter((u) => !u.startsWith(srv.http));
  assert.deepEqual(foreign, [], 'no request leaves the origin');
  await page.screenshot({ path: 'build/test-logs/duckdb-wasm.png' });
});
