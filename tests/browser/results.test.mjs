// Browser tests of the results panel (ui/app/ResultPanel.jsx, Grid.jsx,
// panel.js; ui/js/result_views.js in the session worker): Debian's Chromium
// (playwright-core) against a real ./mdserver on 127.0.0.1, driven by the
// mouse and the keyboard through data-testid elements and the page's
// automation API (window.mdApp.panel).  Results of 10 rows, 1M rows, 200
// columns and 10M rows.  Screenshots: build/test-logs/results-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { startServer, createToken, ROOT } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';
import { escapeToCommand } from '../lib/page.mjs';

const sel = (id) => `[data-testid="${id}"]`;
const shots = `${ROOT}/build/test-logs`;
let srv, browser, page, token;
const pageErrors = [];

before(async () => {
  srv = await startServer();
  token = createToken(srv.dataDir, 'gridder');
  browser = await launch();
  page = browser.page;
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.http });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.log(`CSP violation: ${e.violatedDirective} ${e.sample} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  // (Perspective's bundle, /app/pivot.js, adds <style> elements to the document for elements
  // that live in its shadow roots, where they would not apply anyway: the CSP refuses them)
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('CSP violation') && !/^CSP violation: style-src-elem .* at \S+\/app\/pivot\.js:/.test(t)) pageErrors.push(t);
  });
  await page.setViewportSize({ width: 1400, height: 950 });
  mkdirSync(shots, { recursive: true });
  await page.goto(`${srv.http}/workspace.html#token=${token}`);
  await page.evaluate(() => window.mdApp.ready);
});
after(async () => {
  await browser?.close();
  await srv?.stop({ removeData: true });
});

const cell = (n) => page.locator(sel('cell')).nth(n);
const grid = (n) => cell(n).locator(sel('grid'));
const panel = (n, fn, arg) => page.evaluate(([i, f, a]) => window.mdApp.panel(i)[f](a), [n, fn, arg]);

/** Put `sql` in cell n (made if missing) and run it with Ctrl+Enter; resolves once it ran. */
async function runCell(n, sql, { keepView = false } = {}) {
  while (await page.locator(sel('cell')).count() <= n) await page.click(sel('add-cell'));
  // each test starts from the result as it comes
  if (!keepView) await page.evaluate((i) => window.mdApp.panel(i).reset(), n);
  await cell(n).locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  if (sql.length > 400 || sql.includes('\n')) { // a long statement is pasted, as a user would (typed, Enter may take a completion)
    await page.evaluate((text) => navigator.clipboard.writeText(text), sql);
    await page.keyboard.press('Control+v');
  } else {
    await page.keyboard.type(sql);
  }
  await page.keyboard.press('Control+Enter');
  const status = cell(n).locator(sel('cell-status'));
  await page.waitForFunction((c) => {
    const t = c.querySelector('[data-testid="cell-status"]').textContent;
    return (t && !t.startsWith('running')) || c.querySelector('[data-testid="cell-error"]');
  }, await cell(n).elementHandle(), { timeout: 300000 });
  const error = cell(n).locator(sel('cell-error'));
  if (await error.count()) throw new Error(`cell ${n} failed: ${await error.textContent()}`);
  return status.textContent();
}

const range = (n) => cell(n).locator(sel('grid-range')).textContent();

test('10 rows: values as DuckDB prints them, NULL apart from empty, numbers right-aligned', async () => {
  const status = await runCell(0, `SELECT range AS id,
    CASE WHEN range = 1 THEN NULL WHEN range = 2 THEN '' ELSE 'duck ' || range END AS name,
    (range * 1.125)::DECIMAL(18,3) AS price,
    TIMESTAMP '2024-05-01 12:00:00.123456' + INTERVAL (range) DAY AS at,
    170141183460469231731687303715884105727::HUGEINT - range AS big
    FROM range(10)`);
  assert.match(status, /10 rows/);
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  assert.equal(await grid(0).getAttribute('data-row-count'), '10');
  const rows = await panel(0, 'visibleRows');
  assert.equal(rows.length, 10);
  assert.deepEqual(rows[0], ['0', 'duck 0', '0.000', '2024-05-01 12:00:00.123456', '170141183460469231731687303715884105727']);
  assert.deepEqual(rows[1].slice(0, 2), ['1', 'NULL']);
  assert.deepEqual(rows[2].slice(0, 2), ['2', '']);
  const nullCell = cell(0).locator(`${sel('grid-row')}[data-row-index="1"] ${sel('grid-cell')}`).nth(1);
  assert.match(await nullCell.getAttribute('class'), /\bnull\b/);
  const emptyCell = cell(0).locator(`${sel('grid-row')}[data-row-index="2"] ${sel('grid-cell')}`).nth(1);
  assert.doesNotMatch(await emptyCell.getAttribute('class'), /\bnull\b/);
  const price = cell(0).locator(`${sel('grid-row')}[data-row-index="3"] ${sel('grid-cell')}`).nth(2);
  assert.equal(await price.evaluate((el) => getComputedStyle(el).textAlign), 'right');
  assert.deepEqual(await cell(0).locator(sel('grid-header')).evaluateAll((hs) => hs.map((h) => h.dataset.column)),
    ['id', 'name', 'price', 'at', 'big']);
  assert.equal(await range(0), 'rows 1–10 of 10');
  await page.screenshot({ path: `${shots}/results-grid-10.png` });
});

test('sort: a click on a header, Shift+click adds a key; the same order as ORDER BY', async () => {
  await runCell(0, 'SELECT range % 3 AS g, range AS id, \'n\' || (range % 4) AS t FROM range(10)');
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  await cell(0).locator(`${sel('grid-header')}[data-column="g"]`).click();
  await cell(0).locator(`${sel('grid-header')}[data-column="g"]`).click(); // desc
  await cell(0).locator(`${sel('grid-header')}[data-column="t"]`).click({ modifiers: ['Shift'] });
  assert.deepEqual(await cell(0).locator(sel('sort-indicator')).evaluateAll((s) => s.map((x) => x.dataset.dir)), ['desc', 'asc']);
  const rows = await panel(0, 'visibleRows');
  const expected = [];
  for (let i = 0; i < 10; i++) expected.push([String(i % 3), String(i), `n${i % 4}`]);
  expected.sort((a, b) => (b[0] - a[0]) || a[2].localeCompare(b[2]) || (a[1] - b[1]));
  assert.deepEqual(rows, expected);
});

test('1M rows: filter boxes typed in (range, contains, regex, null), the search box, sort, the end of the result', async () => {
  await runCell(0, `CREATE OR REPLACE TABLE memory.main.big AS SELECT range AS id, 'user ' || range AS name,
    CASE WHEN range % 10 = 0 THEN NULL ELSE range % 1000 END AS score FROM range(1000000)`);
  const status = await runCell(0, 'SELECT * FROM memory.main.big');
  assert.match(status, /^local · 1,000,000 rows/);
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  assert.equal(await grid(0).getAttribute('data-row-count'), '1000000');
  const box = (col) => cell(0).locator(`${sel('filter-input')}[data-column="${col}"]`);
  await box('id').click();
  await page.keyboard.type('999990..999995');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="grid"]').dataset.rowCount === '6');
  assert.deepEqual((await panel(0, 'visibleRows')).map((r) => r[0]), ['999990', '999991', '999992', '999993', '999994', '999995']);
  await box('id').fill('');
  await box('id').press('Enter');
  await box('name').click();
  await page.keyboard.type('/^user 12345[0-9]$/');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="grid"]').dataset.rowCount === '10');
  await box('score').click();
  await page.keyboard.type('null');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="grid"]').dataset.rowCount === '1');
  assert.deepEqual(await panel(0, 'visibleRows'), [['123450', 'user 123450', 'NULL']]);
  assert.deepEqual(await page.evaluate(() => window.mdApp.panel(0).info().then((i) => i.rowCount)), 1);
  await cell(0).locator(sel('clear-view')).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="grid"]').dataset.rowCount === '1000000');
  await cell(0).locator(sel('grid-search')).fill('user 77777');
  await cell(0).locator(sel('grid-search')).press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="grid"]').dataset.rowCount === '11');
  await cell(0).locator(sel('grid-search')).fill('');
  await cell(0).locator(sel('grid-search')).press('Enter');
  // the API: Perspective-shaped sort and filter
  await panel(0, 'setFilter', [['score', '>=', 998]]);
  await panel(0, 'setSort', [['score', 'desc'], ['id', 'desc']]);
  assert.equal(await grid(0).getAttribute('data-row-count'), '2000');
  assert.deepEqual((await panel(0, 'visibleRows'))[0], ['999999', 'user 999999', '999']);
  await panel(0, 'setFilter', []);
  // Ctrl+End: the last row of the sorted result
  await cell(0).locator(`${sel('grid-row')}[data-row-index="0"] ${sel('grid-cell')}`).first().click();
  await page.keyboard.press('Control+End');
  await page.waitForFunction(() => document.querySelector('[data-testid="grid-range"]').textContent.endsWith('1,000,000 of 1,000,000'),
    null, { timeout: 60000 });
  const last = (await panel(0, 'visibleRows')).at(-1);
  assert.deepEqual(last, ['0', 'user 0', 'NULL']); // NULL scores sort last, then id descending
  await page.screenshot({ path: `${shots}/results-grid-1m.png` });
});

test('200 columns: only the columns on screen are on the page; End reaches the last one; resize, move, hide, pin', async () => {
  const cols = Array.from({ length: 200 }, (_, i) => `range + ${i} AS c${i}`).join(', ');
  await runCell(0, `SELECT ${cols} FROM range(1000)`);
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  const headers = () => cell(0).locator(sel('grid-header')).evaluateAll((hs) => hs.map((h) => h.dataset.column));
  const before = await headers();
  assert.ok(before.length < 30, `only the columns in view are drawn (${before.length})`);
  await cell(0).locator(`${sel('grid-row')}[data-row-index="0"] ${sel('grid-cell')}`).first().click();
  await page.keyboard.press('End');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="grid-header"]')].some((h) => h.dataset.column === 'c199'));
  assert.equal((await panel(0, 'visibleRows'))[0].at(-1), '199');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="grid-header"]')].some((h) => h.dataset.column === 'c0'));
  // resize c0 by dragging its edge
  const c0 = cell(0).locator(`${sel('grid-header')}[data-column="c0"]`);
  const w0 = (await c0.boundingBox()).width;
  const handle = await c0.locator(sel('column-resize')).boundingBox();
  await page.mouse.move(handle.x + 2, handle.y + 10);
  await page.mouse.down();
  await page.mouse.move(handle.x + 102, handle.y + 10, { steps: 5 });
  await page.mouse.up();
  const w1 = (await c0.boundingBox()).width;
  assert.ok(Math.abs(w1 - (w0 + 100)) <= 2, `c0 is 100 px wider (${w0} -> ${w1})`);
  // move c2 before c1 by dragging its header
  await cell(0).locator(`${sel('grid-header')}[data-column="c2"]`).dragTo(cell(0).locator(`${sel('grid-header')}[data-column="c1"]`));
  assert.deepEqual((await headers()).slice(0, 3), ['c0', 'c2', 'c1']);
  // hide c0 from its menu
  await c0.hover();
  await c0.locator(sel('column-menu-button')).click();
  await cell(0).locator(sel('column-hide')).click();
  assert.deepEqual((await headers()).slice(0, 2), ['c2', 'c1']);
  // pin c2 and c1, then scroll right: they stay
  const c1 = cell(0).locator(`${sel('grid-header')}[data-column="c1"]`);
  await c1.hover();
  await c1.locator(sel('column-menu-button')).click();
  await cell(0).locator(sel('column-pin')).click();
  await grid(0).evaluate((el) => { el.scrollLeft = 5000; });
  await page.waitForFunction(() => {
    const hs = [...document.querySelectorAll('[data-testid="grid-header"]')].map((h) => h.dataset.column);
    return hs[0] === 'c2' && hs[1] === 'c1' && hs.length > 2 && hs[2] !== 'c3';
  });
  const row = (await panel(0, 'visibleRows'))[0];
  assert.deepEqual(row.slice(0, 2), ['2', '1']);
  await page.screenshot({ path: `${shots}/results-grid-wide.png` });
  // the hidden column comes back where it was: first, so now pinned with c2
  await cell(0).locator(sel('show-hidden')).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="grid-header"]')?.dataset.column === 'c0');
  assert.deepEqual((await headers()).slice(0, 2), ['c0', 'c2']);
  assert.equal(await cell(0).locator(sel('show-hidden')).count(), 0);
});

test('select cells and copy them as TSV; lists, structs and maps expand; long text is read whole', async () => {
  await runCell(0, `SELECT range AS id, 'a' || range AS t, [range, range * 10] AS l,
    {'k': range, 'nested': {'deep': 'x' || range}} AS s, MAP {'m': range} AS m, repeat('0123456789', 80) || range AS long
    FROM range(5)`);
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  const at = (r, c) => cell(0).locator(`${sel('grid-cell')}[data-r="${r}"][data-c="${c}"]`);
  await at(1, 0).click();
  await at(3, 1).click({ modifiers: ['Shift'] });
  await page.keyboard.press('Control+c');
  await page.waitForFunction(() => document.querySelector('.grid-note')?.textContent.startsWith('copied'));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'id\tt\n1\ta1\n2\ta2\n3\ta3');
  // a struct: its fields, a nested struct opened by a click
  await at(2, 3).locator(sel('cell-expand')).click();
  await page.waitForSelector(`${sel('value-node')}[data-key="nested"]`);
  await page.click(`${sel('value-node')}[data-key="nested"] .value-line`);
  await page.waitForSelector(`${sel('value-node')}[data-key="deep"]`);
  assert.match(await page.textContent(`${sel('value-node')}[data-key="deep"]`), /deep\s*x2\s*VARCHAR/);
  await page.screenshot({ path: `${shots}/results-cell-value.png` });
  await page.keyboard.press('Escape');
  await page.waitForSelector(sel('cell-value'), { state: 'detached' });
  // a list and a map
  await at(2, 2).locator(sel('cell-expand')).click();
  await page.waitForSelector(`${sel('value-node')}[data-key="2"]`);
  assert.match(await page.textContent(`${sel('value-node')}[data-key="2"]`), /20/);
  await page.click(sel('cell-value-close'));
  await at(4, 4).locator(sel('cell-expand')).click();
  await page.waitForSelector(`${sel('value-node')}[data-key="m"]`);
  await page.click(sel('cell-value-close'));
  // long text: cut in the grid, whole on demand (End: to the last column)
  await at(0, 0).click();
  await page.keyboard.press('End');
  const shown = await at(0, 5).textContent();
  assert.ok(shown.length < 510 && shown.includes('…'));
  await at(0, 5).locator(sel('cell-expand')).click();
  assert.equal(await page.textContent(sel('cell-value-text')), `${'0123456789'.repeat(80)}0`);
  await page.click(sel('cell-value-close'));
});

test('10M rows: the last row is one scroll away', async () => {
  const status = await runCell(0, 'SELECT range AS id, range % 97 AS g FROM range(10000000)');
  assert.match(status, /10,000,000 rows/);
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  assert.equal(await grid(0).getAttribute('data-row-count'), '10000000');
  await grid(0).evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction(() => document.querySelector('[data-testid="grid-range"]').textContent.endsWith('10,000,000 of 10,000,000'));
  assert.deepEqual((await panel(0, 'visibleRows')).at(-1), ['9999999', String(9999999 % 97)]);
  await panel(0, 'scrollToRow', 5000000);
  // at the top (a pixel of this scroll bar is 30 rows' height: the row above may show too)
  const at = (await panel(0, 'visibleRows')).findIndex((r) => r[0] === '5000000');
  assert.ok(at === 0 || at === 1, `row 5,000,000 is at the top (${at})`);
  await page.screenshot({ path: `${shots}/results-grid-10m.png` });
});

test('1M rows as a pivot (group by, split by, sum): the values of the same GROUP BY in duckdb-wasm; a chart', async () => {
  await cell(0).locator(sel('cell-name')).fill('src');
  await runCell(0, "SELECT range % 7 AS g, 's' || (range % 3) AS s, range AS v, range % 11 AS w FROM range(1000000)");
  // the same GROUP BY, run directly in duckdb-wasm on the cached result (by the cell's name)
  assert.match(await runCell(1, 'SELECT g, s, sum(v)::BIGINT AS total FROM src GROUP BY ALL ORDER BY ALL'), /^local/);
  // more rows than the grid shows at once: the first ones, then the end
  const direct = await panel(1, 'visibleRows');
  await panel(1, 'scrollToRow', 20);
  const end = await panel(1, 'visibleRows');
  direct.push(...end.slice(end.length - (21 - direct.length)));
  assert.deepEqual(direct.map((r) => r[0] + r[1]), ['0s0', '0s1', '0s2', '1s0', '1s1', '1s2', '2s0', '2s1', '2s2', '3s0', '3s1',
    '3s2', '4s0', '4s1', '4s2', '5s0', '5s1', '5s2', '6s0', '6s1', '6s2']);
  await cell(0).locator(`${sel('view-switch')} [data-view="pivot"]`).click();
  await cell(0).locator(`${sel('pivot')}[data-state="ready"]`).waitFor({ timeout: 60000 });
  await panel(0, 'setPivot', { group_by: ['g'], split_by: ['s'], columns: ['v'], aggregates: { v: 'sum' } });
  const rows = await panel(0, 'visibleRows');
  const num = (t) => t.replaceAll(',', '');
  assert.equal(rows[0][0], 'TOTAL');
  const pivot = new Map(rows.slice(1).map((r) => [r[0], r.slice(1).map(num)]));
  assert.equal(pivot.size, 7);
  for (const [g, s, total] of direct) assert.equal(pivot.get(g)[Number(s.slice(1))], total, `g=${g} s=${s}`);
  assert.equal(rows[0].slice(1).map(num).reduce((a, b) => a + Number(b), 0), 499999500000);
  await page.screenshot({ path: `${shots}/results-pivot.png` });
  // DuckDB's median and count distinct, added to the viewer's aggregates
  await panel(0, 'setPivot', { group_by: ['s'], columns: ['w', 'v'], aggregates: { w: 'count_distinct', v: 'median' } });
  const stats = new Map((await panel(0, 'visibleRows')).slice(1).map((r) => [r[0], r.slice(1).map(num)]));
  assert.equal(Number(stats.get('s0')[0]), 11);
  assert.equal(Number(stats.get('s1')[1]), 499999); // the median of 1, 4, 7, ..., 999997
  await panel(0, 'setPivot', { group_by: ['g'], split_by: ['s'], columns: ['v'], aggregates: { v: 'sum' } });
  await cell(0).locator(`${sel('view-switch')} [data-view="chart"]`).click();
  await cell(0).locator(`${sel('pivot')}[data-state="ready"]`).waitFor({ timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="pivot"] perspective-viewer-d3fc-ybar'));
  await page.screenshot({ path: `${shots}/results-chart.png` });
  // the configuration is kept with the cell: back to the grid and to the pivot again
  await cell(0).locator(`${sel('view-switch')} [data-view="grid"]`).click();
  await cell(0).locator(`${sel('grid')}[data-state="ready"]`).waitFor();
  await cell(0).locator(`${sel('view-switch')} [data-view="pivot"]`).click();
  assert.equal((await panel(0, 'visibleRows')).length, rows.length);
  await panel(0, 'show', 'grid');
});

test('the column explorer: a strip per column, then one column in detail', async () => {
  await runCell(0, `SELECT range AS id, CASE WHEN range % 4 = 0 THEN NULL ELSE 'k' || (range % 3) END AS kind,
    DATE '2024-01-01' + (range % 366)::INT AS day FROM range(100000)`);
  await cell(0).locator(sel('explorer-toggle')).click();
  const strip = (c) => cell(0).locator(`${sel('column-summary')}[data-column="${c}"][data-state="ready"]`);
  await strip('day').waitFor({ timeout: 60000 });
  assert.match(await strip('kind').textContent(), /25% null/);
  assert.match(await strip('kind').textContent(), /≈3 distinct/);
  assert.match(await strip('id').textContent(), /0% null/);
  await page.screenshot({ path: `${shots}/results-column-explorer.png` });
  await strip('id').click();
  await cell(0).locator(`${sel('column-details')}[data-state="ready"]`).waitFor({ timeout: 60000 });
  assert.equal(await cell(0).locator(sel('detail-min')).textContent(), '0');
  assert.equal(await cell(0).locator(sel('detail-max')).textContent(), '99999');
  assert.equal(await cell(0).locator(sel('detail-mean')).textContent(), '49999.5');
  await page.screenshot({ path: `${shots}/results-column-details.png` });
  await cell(0).locator(sel('explorer-back')).click();
  await cell(0).locator(sel('explorer-toggle')).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="column-explorer"]'));
});

test('export the view as CSV and the result as Arrow; save the result as a browser table and a server table', async () => {
  await cell(0).locator(sel('cell-name')).fill('nums');
  await runCell(0, "SELECT range AS id, 'x' || range AS name FROM range(50)");
  await panel(0, 'setFilter', [['id', '>=', 45]]);
  await panel(0, 'setSort', [['id', 'desc']]);
  await cell(0).locator(sel('export')).click();
  const [csv] = await Promise.all([page.waitForEvent('download'),
    cell(0).locator(`${sel('export-item')}[data-format="csv"][data-scope="view"]`).click()]);
  assert.equal(csv.suggestedFilename(), 'nums.csv'); // the cell's name
  const text = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.deepEqual(text, ['id,name', '49,x49', '48,x48', '47,x47', '46,x46', '45,x45']);
  await cell(0).locator(sel('export')).click();
  const [arrow] = await Promise.all([page.waitForEvent('download'),
    cell(0).locator(`${sel('export-item')}[data-format="arrow"][data-scope="all"]`).click()]);
  assert.equal(readFileSync(await arrow.path()).subarray(0, 6).toString(), 'ARROW1');
  // Parquet and JSON: made by the server's DuckDB
  await cell(0).locator(sel('export')).click();
  const [parquet] = await Promise.all([page.waitForEvent('download'),
    cell(0).locator(`${sel('export-item')}[data-format="parquet"][data-scope="all"]`).click()]);
  const pq = readFileSync(await parquet.path());
  assert.equal(pq.subarray(0, 4).toString(), 'PAR1');
  assert.equal(pq.subarray(pq.length - 4).toString(), 'PAR1');
  await cell(0).locator(sel('export')).click();
  const [json] = await Promise.all([page.waitForEvent('download'),
    cell(0).locator(`${sel('export-item')}[data-format="json"][data-scope="view"]`).click()]);
  assert.deepEqual(JSON.parse(readFileSync(await json.path(), 'utf8')).map((r) => r.id), [49, 48, 47, 46, 45]);
  assert.match(await cell(0).locator(sel('export-note')).textContent(), /exported JSON/);
  for (const [where, name, item] of [['browser', 'kept_local', 'memory.main.kept_local'], ['server', 'kept_remote', 'my_db.main.kept_remote']]) {
    await cell(0).locator(sel('export')).click();
    await cell(0).locator(sel('save-name')).fill(name);
    await cell(0).locator(sel(`save-${where}`)).click();
    await page.waitForFunction((w) => document.querySelector('[data-testid="export-note"]')?.textContent.startsWith('saved'), where);
    await page.locator(`${sel('catalog-item')}[data-name="${item}"]`).waitFor();
  }
  assert.match(await runCell(1, 'SELECT count(*) AS n FROM kept_remote'), /^remote · 1 row/);
  assert.deepEqual(await panel(1, 'visibleRows'), [['50']]);
});

test('the panel state is saved with the notebook; a deleted cell drops its cached result', async () => {
  await runCell(0, 'SELECT range AS id, range % 5 AS g FROM range(100)');
  await page.waitForSelector(`${sel('grid')}[data-state="ready"]`);
  await panel(0, 'setSort', [['id', 'desc']]);
  await panel(0, 'setFilter', [['g', '==', 2]]);
  await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]')?.dataset.state === 'saved');
  await page.reload();
  await page.evaluate(() => window.mdApp.ready);
  await runCell(0, 'SELECT range AS id, range % 5 AS g FROM range(100)', { keepView: true });
  assert.equal((await panel(0, 'visibleRows'))[0][0], '97');
  assert.equal(await grid(0).getAttribute('data-row-count'), '20');
  assert.deepEqual(await cell(0).locator(sel('sort-indicator')).evaluateAll((s) => s.map((x) => x.dataset.dir)), ['desc']);
  assert.equal(await cell(0).locator(`${sel('filter-input')}[data-column="g"]`).inputValue(), '=2');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${shots}/results-grid-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(await page.evaluate(() => window.mdApp.cacheTables()), 1);
  // delete the cell in command mode (D, D)
  await cell(0).locator('.cm-content').click();
  await escapeToCommand(page);
  await page.keyboard.press('d');
  await page.keyboard.press('d');
  await page.waitForFunction(() => !document.querySelector('[data-testid="grid"]'));
  await page.waitForFunction(() => window.mdApp.cacheTables().then((n) => n === 0));
  assert.deepEqual(pageErrors, []);
});
