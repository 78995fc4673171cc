// Browser tests of the workspace (ui/workspace.html, ui/app): Debian's
// Chromium (playwright-core) against a real ./mdserver on 127.0.0.1, driven by
// the keyboard and the mouse through its data-testid elements.  Screenshots
// go to build/test-logs/workspace-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, createToken, ROOT } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';
import { escapeToCommand, gridTexts } from '../lib/page.mjs';

const sel = (id) => `[data-testid="${id}"]`;
let srv, browser, page, token;
const pageErrors = [];
const shots = `${ROOT}/build/test-logs`;

before(async () => {
  srv = await startServer();
  token = createToken(srv.dataDir, 'wsuser');
  browser = await launch();
  page = browser.page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Every Content-Security-Policy violation, with what it was about.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.log(`CSP violation: ${e.violatedDirective} ${e.sample} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on('console', (m) => { if (m.text().startsWith('CSP violation')) pageErrors.push(m.text()); });
  mkdirSync(shots, { recursive: true });
});
after(async () => {
  await browser?.close();
  await srv?.stop({ removeData: true });
});

/** The n-th cell's status once it ran (not "running…"). */
async function cellStatus(n) {
  const status = page.locator(sel('cell')).nth(n).locator(sel('cell-status'));
  await page.waitForFunction((el) => el.textContent && !el.textContent.startsWith('running'), await status.elementHandle());
  return status.textContent();
}

test('log in, type SQL in a cell, run it with Ctrl+Enter: where it ran, rows, the result', async () => {
  await page.goto(`${srv.http}/workspace.html#token=${token}`);
  await page.evaluate(() => window.mdApp.ready);
  assert.match(await page.textContent(sel('connection')), /wsuser/);
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  await page.click(`${sel('cell')} .cm-content`);
  await page.keyboard.type('SELECT 42 AS answer, \'duck\' AS name');
  await page.keyboard.press('Control+Enter');
  assert.match(await cellStatus(0), /^remote · 1 row · /);
  const cells = await gridTexts(page.locator(sel('cell')).nth(0));
  assert.deepEqual(cells, ['42', 'duck']);
});

test('Shift+Enter runs a cell and moves to a new one; a remote table appears in the catalog and the inspector', async () => {
  await page.click(`${sel('cell')} .cm-content`);
  await page.keyboard.press('Control+a');
  await page.keyboard.type('CREATE OR REPLACE TABLE trips AS SELECT range AS id, range * 1.5 AS fare FROM range(250)');
  await page.keyboard.press('Shift+Enter');
  await cellStatus(0);
  assert.equal(await page.locator(sel('cell')).count(), 2);
  // the new cell has the focus: type into it at once
  await page.keyboard.type('SELECT count(*) AS n, sum(fare) AS total FROM trips');
  await page.keyboard.press('Control+Enter');
  assert.match(await cellStatus(1), /^remote · 1 row · /);
  assert.deepEqual(await gridTexts(page.locator(sel('cell')).nth(1)), ['250', '46687.5']);
  const item = page.locator(`${sel('catalog-item')}[data-name="my_db.main.trips"]`);
  await item.waitFor();
  await item.click();
  const inspector = await page.textContent(sel('inspector'));
  assert.match(inspector, /trips/);
  assert.match(inspector, /on the server/);
  assert.match(inspector, /fare\s*DECIMAL/);
});

test('a local table lands under Browser; the filter keeps matching tables; errors show in the cell', async () => {
  await page.click(sel('add-cell'));
  await page.click(`${sel('cell')}:nth-of-type(3) .cm-content`).catch(() => page.locator(`${sel('cell')} .cm-content`).nth(2).click());
  await page.keyboard.type('CREATE TABLE memory.main.local_pets AS SELECT * FROM (VALUES (1, \'cat\'), (2, \'dog\')) t(id, kind)');
  await page.keyboard.press('Control+Enter');
  await cellStatus(2);
  await page.locator(`${sel('catalog-item')}[data-name="memory.main.local_pets"]`).waitFor();
  await page.fill(sel('catalog-filter'), 'pets');
  await page.waitForFunction(() => !document.querySelector('[data-testid="catalog-item"][data-name="my_db.main.trips"]'));
  assert.equal(await page.locator(`${sel('catalog-item')}[data-name="memory.main.local_pets"]`).count(), 1);
  await page.fill(sel('catalog-filter'), '');
  await page.locator(sel('cell')).nth(2).locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type('SELECT nope FROM local_pets');
  await page.keyboard.press('Control+Enter');
  const err = page.locator(sel('cell')).nth(2).locator(sel('cell-error'));
  await err.waitFor();
  assert.match(await err.textContent(), /Binder Error: .*nope/);
  // the error's position is underlined in the editor: the word it points at
  const mark = page.locator(sel('cell')).nth(2).locator(sel('cell-error-mark'));
  await mark.waitFor();
  assert.equal(await mark.textContent(), 'nope');
  await page.screenshot({ path: `${shots}/workspace-light.png` });
  // the next edit takes the underline away
  await page.keyboard.press('End');
  await page.keyboard.type(' ');
  await page.waitForFunction(() => ![...document.querySelectorAll('.sql-editor')]
    .some((h) => h.shadowRoot.querySelector('[data-testid="cell-error-mark"]')));
});

test('Cancel stops a running cell; the cell says so and the next run works', async () => {
  await page.click(sel('add-cell'));
  const cell = page.locator(sel('cell')).nth(3);
  await cell.locator('.cm-content').click();
  await page.keyboard.type('SELECT count(*) FROM local_pets, range(1000000000) r(j) WHERE (j + id) % 7 = 3');
  await page.keyboard.press('Control+Enter');
  await cell.locator(sel('cell-cancel')).click();
  const err = cell.locator(sel('cell-error'));
  await err.waitFor({ timeout: 15000 });
  assert.match(await err.textContent(), /cancelled/);
  await cell.locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type('SELECT count(*) AS n FROM local_pets');
  await page.keyboard.press('Control+Enter');
  assert.match(await cellStatus(3), /^local · 1 row · /);
});

test('a cell that joins a server table with a browser table runs hybrid and says what moved', async () => {
  await page.click(sel('add-cell'));
  const cell = page.locator(sel('cell')).nth(4);
  await cell.locator('.cm-content').click();
  await page.keyboard.type('SELECT t.id, p.kind FROM trips t JOIN local_pets p ON t.id = p.id ORDER BY t.id');
  await page.keyboard.press('Control+Enter');
  assert.match(await cellStatus(4), /^hybrid \(\d+(\.\d)? (B|KiB) up, \d+(\.\d)? (B|KiB) down\) · 2 rows · /);
  assert.deepEqual(await gridTexts(cell), ['1', 'cat', '2', 'dog']);
});

test('the inspector summarizes a table where it lives: rows, nulls, distinct values, first rows, DDL; query it in a cell', async () => {
  const ready = () => page.waitForFunction(() => document.querySelector('[data-testid="table-summary"]')?.dataset.state === 'ready');
  await page.locator(`${sel('catalog-item')}[data-name="my_db.main.trips"]`).click();
  await ready();
  assert.equal(await page.textContent(sel('table-rows')), '250');
  const [name, type, nulls, distinct] = await page.locator(`${sel('column-stat')}[data-column="fare"] td`).allTextContents();
  assert.deepEqual([name, type, nulls], ['fare', 'DECIMAL(21,1)', '0%']);
  assert.ok(Number(distinct.replace(/\D/g, '')) > 200, `about 250 distinct fares, got ${distinct}`);
  assert.equal(await page.locator(`${sel('table-preview')} tbody tr`).count(), 100);
  assert.match(await page.textContent(sel('table-ddl')), /^CREATE TABLE trips\(id BIGINT, fare DECIMAL\(21,1\)\);/);
  await page.screenshot({ path: `${shots}/workspace-inspector.png` });
  // a browser table is summarized in the browser
  await page.locator(`${sel('catalog-item')}[data-name="memory.main.local_pets"]`).click();
  await ready();
  assert.equal(await page.textContent(sel('table-rows')), '2');
  assert.match(await page.textContent(sel('table-ddl')), /CREATE TABLE local_pets/);
  const before = await page.locator(sel('cell')).count();
  await page.click(sel('query-table'));
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="cell"]').length === n + 1, before);
  await page.keyboard.press('Control+Enter'); // the new cell has the keys
  const status = page.locator(`${sel('cell')}[data-current="true"] ${sel('cell-status')}`);
  await page.waitForFunction((el) => /rows/.test(el.textContent), await status.elementHandle());
  assert.match(await status.textContent(), /^local · 2 rows/);
});

test('history: every run is kept on the server; search it; a click puts the SQL in a new cell', async () => {
  await page.click(sel('history-toggle'));
  const entries = page.locator(sel('history-entry'));
  await entries.first().waitFor();
  assert.match(await entries.first().textContent(), /^local.*2 rows.*SELECT \* FROM "memory"\."main"\."local_pets"/);
  const all = await entries.allTextContents();
  assert.ok(all.some((t) => /^hybrid.*SELECT t\.id, p\.kind FROM trips t JOIN local_pets/.test(t)), all.join('\n'));
  assert.ok(all.some((t) => /failed.*SELECT nope FROM local_pets.*Binder Error/.test(t)), 'failed runs are kept with their error');
  await page.fill(sel('history-search'), 'sum(FARE)');
  await page.waitForFunction(() => {
    const e = [...document.querySelectorAll('[data-testid="history-entry"]')];
    return e.length === 1 && e[0].textContent.includes('sum(fare) AS total');
  });
  const before = await page.locator(sel('cell')).count();
  await entries.first().click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="cell"]').length === n + 1, before);
  const texts = await page.locator(`${sel('cell')} .cm-content`).allTextContents();
  assert.ok(texts.includes('SELECT count(*) AS n, sum(fare) AS total FROM trips'));
  await page.fill(sel('history-search'), '');
  await page.click(sel('tab-table'));
});

test('completion knows both catalogs, columns after an alias and DuckDB functions with their signature', async () => {
  await page.click(sel('add-cell'));
  const popup = page.locator('.cm-tooltip-autocomplete');
  const options = () => popup.locator('li').allTextContents();
  await page.keyboard.type('SELECT * FROM local_p');
  await popup.waitFor();
  // the list fills as both catalogs answer: wait for the table, not for the first options shown
  await page.waitForFunction(() => [...document.querySelectorAll('.sql-editor')].some((h) =>
    [...h.shadowRoot.querySelectorAll('.cm-tooltip-autocomplete li')].some((li) => li.textContent.startsWith('local_pets'))),
  null, { timeout: 10000 }).catch(async () => assert.fail((await options()).join(' | ')));
  await page.keyboard.press('Enter');
  await page.keyboard.type(' p JOIN tri');
  await page.waitForFunction(() => [...document.querySelectorAll('.sql-editor')].some((h) =>
    [...h.shadowRoot.querySelectorAll('.cm-tooltip-autocomplete li')].some((li) => li.textContent.startsWith('trips'))));
  await page.keyboard.press('Enter');
  await page.keyboard.type(' t ON t.');
  await page.waitForFunction(() => [...document.querySelectorAll('.sql-editor')].some((h) =>
    [...h.shadowRoot.querySelectorAll('.cm-tooltip-autocomplete .cm-completionLabel')].map((l) => l.textContent).sort().join() === 'fare,id'));
  await page.keyboard.type('id = p.');
  await page.waitForFunction(() => [...document.querySelectorAll('.sql-editor')].some((h) =>
    [...h.shadowRoot.querySelectorAll('.cm-tooltip-autocomplete li')].some((li) => li.textContent.startsWith('kind'))));
  await page.keyboard.press('Escape');
  await page.keyboard.type('id AND arg_ma');
  await page.waitForFunction(() => [...document.querySelectorAll('.sql-editor')].some((h) =>
    [...h.shadowRoot.querySelectorAll('.cm-tooltip-autocomplete li')].some((li) => /^arg_max\(.+\)/.test(li.textContent))));
  await page.screenshot({ path: `${shots}/workspace-completion.png` });
  await page.keyboard.press('Escape');
  const text = await page.locator(`${sel('cell')}[data-current="true"] .cm-content`).textContent();
  assert.equal(text, 'SELECT * FROM local_pets p JOIN trips t ON t.id = p.id AND arg_ma');
  await escapeToCommand(page);
  await page.keyboard.press('d');
  await page.keyboard.press('d');
});

test('EXPLAIN of a split query shows its plan as a tree: sites in colour, the bridge and its direction; ANALYZE measures it', async () => {
  await page.click(sel('add-cell'));
  await page.keyboard.type('EXPLAIN SELECT t.id, p.kind FROM trips t JOIN local_pets p ON t.id = p.id');
  await page.keyboard.press('Control+Enter');
  const plan = page.locator(sel('plan'));
  await plan.waitFor();
  assert.equal(await plan.getAttribute('data-kind'), 'dual_plan');
  const sites = await page.locator(sel('plan-node')).evaluateAll((ns) => ns.map((n) => n.dataset.site));
  assert.ok(sites.includes('local') && sites.includes('remote'), sites.join());
  const bridge = page.locator(sel('plan-bridge')).first();
  assert.match(await bridge.innerText(), /^BRIDGE (browser → server|server → browser)\s+memory\.main\.local_pets\s+est\. 2 rows/);
  await page.screenshot({ path: `${shots}/workspace-plan.png` });
  await page.keyboard.press('Control+a');
  await page.keyboard.type('EXPLAIN ANALYZE SELECT t.id, p.kind FROM trips t JOIN local_pets p ON t.id = p.id');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="plan"]')?.dataset.kind === 'analyzed_plan');
  assert.match(await page.textContent(sel('plan-measured')), /moved \d+ rows?, .+ in .+/);
  assert.ok((await page.textContent(sel('plan-text'))).length > 20, "DuckDB's plan of the final query");
  await escapeToCommand(page);
  await page.keyboard.press('d');
  await page.keyboard.press('d');
  await page.click(sel('tab-table'));
});

test("a server database's snapshots in the catalog: a click attaches one as it was, in a new cell", async () => {
  await page.click(`${sel('catalog-snapshots')}[data-name="my_db"] summary`);
  const snap = page.locator(`${sel('catalog-item')}[data-kind="snapshot"]`).first();
  await snap.waitFor();
  const id = (await snap.getAttribute('data-name')).split('@')[1];
  await page.screenshot({ path: `${shots}/workspace-catalog.png` });
  const before = await page.locator(sel('cell')).count();
  await snap.click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="cell"]').length === n + 1, before);
  await page.keyboard.press('Control+Enter');
  await page.locator(`${sel('catalog-item')}[data-kind="database"][data-name="my_db_at_${id}"]`).waitFor();
  await escapeToCommand(page);
  await page.keyboard.press('d');
  await page.keyboard.press('d');
});

test('the theme toggle switches to dark and back; window.mdApp.run answers per statement', async () => {
  await page.click(sel('theme-toggle'));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)');
  await page.screenshot({ path: `${shots}/workspace-dark.png` });
  await page.click(sel('theme-toggle'));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await page.click(sel('theme-toggle'));
  const r = await page.evaluate(() => window.mdApp.run('SELECT 1 AS a; SELECT * FROM local_pets'));
  assert.deepEqual(r.map((x) => [x.site, x.rowCount]), [['remote', 1], ['local', 2]]);
  assert.deepEqual(pageErrors, []);
});

test('command mode as in Jupyter: Esc, B and A insert, Enter edits, D D deletes, Z puts it back, arrows move', async () => {
  const cellCount = () => page.locator(sel('cell')).count();
  // what the page shows after a key: waited for, as the page renders after the key's handler
  const shows = (count, current) => page.waitForFunction(([n, cur]) => {
    const cells = [...document.querySelectorAll('[data-testid="cell"]')];
    return cells.length === n && cells.findIndex((c) => c.dataset.current === 'true') === cur;
  }, [count, current]);
  const n = await cellCount();
  await page.locator(sel('cell')).nth(n - 1).locator('.cm-content').click();
  await escapeToCommand(page);
  await page.keyboard.press('b');
  await shows(n + 1, n);
  await page.keyboard.press('Enter');
  await page.keyboard.type('SELECT 7 AS seven');
  await escapeToCommand(page);
  await page.keyboard.press('Control+Enter');
  assert.match(await cellStatus(n), / · 1 row · /);
  await page.keyboard.press('d');
  await page.keyboard.press('d');
  await shows(n, n - 1);
  assert.equal((await page.locator(`${sel('cell')} .cm-content`).allTextContents()).includes('SELECT 7 AS seven'), false);
  await page.keyboard.press('z');
  await shows(n + 1, n);
  assert.equal(await page.locator(sel('cell')).nth(n).locator('.cm-content').textContent(), 'SELECT 7 AS seven');
  await page.keyboard.press('ArrowUp');
  await shows(n + 1, n - 1);
  await page.keyboard.press('a');
  await shows(n + 2, n - 1);
  await page.keyboard.press('d');
  await page.keyboard.press('d');
  await shows(n + 1, n - 1);
});
