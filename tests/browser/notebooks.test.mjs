// Browser tests of the workspace's notebooks (ui/app/notebooks.js and the
// components around it): Debian's Chromium (playwright-core) against a real
// ./mdserver on 127.0.0.1, driven by the keyboard and the mouse.
//
// The journey: log in, make a notebook, a remote CTAS cell, a local cell
// named `pets`, a hybrid cell that joins them by name; reload: all there;
// export .sql, import it as a new notebook, run all: the same results; the
// server killed between two edits: nothing typed is lost.  Then Markdown
// cells, running a selection or one statement, two tabs editing one
// notebook (the conflict, both kept), the trash, duplicates, collapsing
// panes.  Screenshots: build/test-logs/notebook-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { startServer, createToken, ROOT } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';
import { escapeToCommand, gridTexts } from '../lib/page.mjs';

const sel = (id) => `[data-testid="${id}"]`;
const shots = `${ROOT}/build/test-logs`;
let srv, browser, page, token;
const pageErrors = [];

before(async () => {
  srv = await startServer();
  token = createToken(srv.dataDir, 'nbuser');
  browser = await launch();
  page = browser.page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
  mkdirSync(shots, { recursive: true });
});
after(async () => {
  await browser?.close();
  await srv?.stop({ removeData: true });
});

const cell = (p, n) => p.locator(sel('cell')).nth(n);

/** Click into cell n's editor, replace its text by typing `text`. */
async function typeInto(p, n, text) {
  await cell(p, n).locator('.cm-content').click();
  await p.keyboard.press('Control+a');
  await p.keyboard.type(text);
}

/** Cell n's status once it ran. */
async function statusOf(p, n) {
  const status = cell(p, n).locator(sel('cell-status'));
  await p.waitForFunction((el) => el.textContent && !el.textContent.startsWith('running'), await status.elementHandle());
  return status.textContent();
}

const resultTexts = (p, n) => gridTexts(cell(p, n));
const waitSaved = (p) => p.waitForFunction(() => document.querySelector('[data-testid="save-state"]')?.dataset.state === 'saved');
// each cell's text: its editor's lines, or the plain block shown until the editor is made
const sources = (p) => p.evaluate(() => [...document.querySelectorAll('[data-testid="cell"]')].map((c) => {
  const root = c.querySelector('.sql-editor')?.shadowRoot;
  const plain = c.querySelector('.editor-plain')?.textContent;
  return {
    type: c.dataset.cellType, name: c.dataset.cellName,
    text: root ? [...root.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n') : plain === ' ' ? '' : plain ?? null,
  };
}));

async function openWorkspace(p, query = '') {
  await p.goto(`${srv.http}/workspace.html${query}`);
  await p.evaluate(() => window.mdApp.ready);
}

test('journey: a notebook with remote, local and hybrid cells; reload; export and import; the server killed between edits', async () => {
  await page.goto(`${srv.http}/workspace.html#token=${token}`);
  await page.evaluate(() => window.mdApp.ready);
  // the first visit opens a new notebook; make another one and name it
  await page.click(sel('new-notebook'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="notebook-item"]').length === 2);
  await page.click(sel('notebook-title'));
  await page.keyboard.press('Control+a');
  await page.keyboard.type('Fares and pets');
  await page.keyboard.press('Enter');
  await page.locator(`${sel('notebook-item')}[title="Fares and pets"]`).waitFor();

  await typeInto(page, 0, 'CREATE OR REPLACE TABLE fares AS SELECT range AS id, range * 2 AS fare FROM range(10)');
  await page.keyboard.press('Shift+Enter');
  assert.match(await statusOf(page, 0), /^remote · 1 row/);
  // a browser-side table function (md_run => 'local'): the cell runs in duckdb-wasm
  await page.keyboard.type("SELECT range AS id, if(range = 1, 'cat', 'dog') AS kind FROM range(1, 4, 2, md_run => 'local')");
  await cell(page, 1).locator(sel('cell-name')).click();
  await page.keyboard.type('pets');
  await page.keyboard.press('Enter'); // back to command mode
  await page.keyboard.press('Control+Enter');
  assert.match(await statusOf(page, 1), /^local · 2 rows/);
  await page.keyboard.press('b');
  await page.keyboard.press('Enter');
  await page.keyboard.type('SELECT f.id, f.fare, p.kind FROM fares f JOIN pets p USING (id) ORDER BY id');
  await page.keyboard.press('Control+Enter');
  assert.match(await statusOf(page, 2), /^hybrid \(.* up, .* down\) · 2 rows/);
  const joined = await resultTexts(page, 2);
  assert.deepEqual(joined, ['1', '2', 'cat', '3', '6', 'dog']);
  await waitSaved(page);
  await page.screenshot({ path: `${shots}/notebook-light.png` });

  // reload: the notebook of the address bar, its title and cells
  const id = new URL(page.url()).searchParams.get('notebook');
  assert.match(id, /^[0-9a-f]{32}$/);
  const before = await sources(page);
  await page.reload();
  await page.evaluate(() => window.mdApp.ready);
  assert.equal(await page.textContent(sel('notebook-title')), 'Fares and pets');
  assert.deepEqual(await sources(page), before);
  assert.equal(before[1].name, 'pets');

  // export as .sql, import that file: a new notebook with the same cells, the same results
  await page.click(sel('notebook-file-menu'));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(sel('export-sql'))]);
  assert.equal(download.suggestedFilename(), 'Fares_and_pets.sql');
  const file = `${shots}/notebook-export.sql`;
  await download.saveAs(file);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^-- mdserver notebook: Fares and pets\n-- %% \[sql\]\nCREATE OR REPLACE TABLE fares/);
  assert.match(text, /\n-- %% \[sql\] pets\nSELECT range AS id/);
  await page.click(sel('notebook-file-menu'));
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(sel('import'))]);
  await chooser.setFiles(file);
  await page.waitForFunction((old) => new URL(location.href).searchParams.get('notebook') !== old, id);
  assert.deepEqual(await sources(page), before);
  await page.click(sel('run-all'));
  assert.match(await statusOf(page, 2), /^hybrid .* · 2 rows/);
  assert.deepEqual(await resultTexts(page, 2), joined);
  await waitSaved(page);

  // the server goes away between two edits: the second waits in the browser, then reaches the server
  await typeInto(page, 0, 'SELECT 1 AS first_edit');
  await waitSaved(page);
  const { port, dataDir } = srv;
  await srv.stop();
  await typeInto(page, 0, 'SELECT 2 AS second_edit');
  await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]').dataset.state === 'offline');
  const kept = await page.evaluate((nb) => localStorage.getItem(`mdserver.unsaved.${nb}`),
    new URL(page.url()).searchParams.get('notebook'));
  assert.match(kept, /second_edit/);
  srv = await startServer({ port, dataDir });
  await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]').dataset.state === 'saved',
    null, { timeout: 30000 });
  await page.reload();
  await page.evaluate(() => window.mdApp.ready);
  assert.equal((await sources(page))[0].text, 'SELECT 2 AS second_edit');
  assert.deepEqual(pageErrors, []);
});

test('a reload while the server is away keeps the edit; it is saved once the server is back', async () => {
  await typeInto(page, 0, 'SELECT 3 AS before_the_outage');
  await waitSaved(page);
  const { port, dataDir } = srv;
  await srv.stop();
  await typeInto(page, 0, 'SELECT 4 AS typed_offline');
  await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]').dataset.state === 'offline');
  srv = await startServer({ port, dataDir });
  await page.reload(); // the copy in the browser is found and saved
  await page.evaluate(() => window.mdApp.ready);
  assert.equal((await sources(page))[0].text, 'SELECT 4 AS typed_offline');
  await waitSaved(page);
  const other = await browser.context.newPage();
  try {
    await openWorkspace(other, new URL(page.url()).search);
    assert.equal((await sources(other))[0].text, 'SELECT 4 AS typed_offline', 'the server has it');
  } finally {
    await other.close();
  }
});

test('Markdown cells: M turns a cell into Markdown, it renders when run (no raw HTML), Y turns it back', async () => {
  await page.click(sel('new-notebook'));
  await page.waitForFunction(() => document.querySelector('[data-testid="notebook-title"]')?.textContent === 'Untitled notebook'
    && document.querySelectorAll('[data-testid="cell"]').length === 1);
  await cell(page, 0).locator('.cm-content').click();
  await escapeToCommand(page);
  await page.keyboard.press('m');
  await page.locator(`${sel('cell')}[data-cell-type="markdown"]`).waitFor();
  await page.keyboard.press('Enter');
  await page.keyboard.type('# Weekly fares\n\nThe **join** below is <b>hybrid</b>.');
  await page.keyboard.press('Shift+Enter');
  const md = cell(page, 0).locator(sel('cell-markdown'));
  await md.waitFor();
  assert.equal(await md.locator('h1').textContent(), 'Weekly fares');
  assert.equal(await md.locator('strong').textContent(), 'join');
  assert.equal(await md.locator('b').count(), 0, 'raw HTML is text');
  assert.match(await md.textContent(), /<b>hybrid<\/b>/);
  // the next cell (made by Shift+Enter) has the keys
  await page.keyboard.type('SELECT 1 AS one');
  await escapeToCommand(page);
  await page.keyboard.press('m');
  await page.locator(`${sel('cell')}[data-cell-type="markdown"]`).nth(1).waitFor();
  await page.keyboard.press('y');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="cell"][data-cell-type="sql"]').length === 1);
  await waitSaved(page);
  await page.reload();
  await page.evaluate(() => window.mdApp.ready);
  assert.deepEqual((await sources(page)).map((c) => c.type), ['markdown', 'sql']);
  assert.equal(await cell(page, 0).locator(`${sel('cell-markdown')} h1`).textContent(), 'Weekly fares');
});

test('Ctrl+Enter runs the selection only; Alt+Enter the statement at the cursor; errors point into the cell', async () => {
  await cell(page, 1).locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.type('SELECT 10 AS a;\nSELECT 20 AS b;\nSELECT nope;');
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Alt+Enter');
  assert.match(await statusOf(page, 1), / · 1 row · /);
  assert.deepEqual(await resultTexts(page, 1), ['20']);
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="cell"]')[1]
    .querySelector('[data-testid="grid-cell"]')?.textContent === '10');
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Alt+Enter');
  await cell(page, 1).locator(sel('cell-error')).waitFor();
  const mark = cell(page, 1).locator(sel('cell-error-mark'));
  await mark.waitFor();
  assert.equal(await mark.textContent(), 'nope', 'the position is the cell\'s, not the statement\'s');
});

test('two tabs edit one notebook: the later save is refused, the page shows both, and both can be kept', async () => {
  const nbId = new URL(page.url()).searchParams.get('notebook');
  const other = await browser.context.newPage();
  try {
    await openWorkspace(other, `?notebook=${nbId}`);
    await typeInto(page, 1, 'SELECT 1 AS from_tab_one');
    await waitSaved(page);
    await typeInto(other, 1, 'SELECT 2 AS from_tab_two');
    const banner = other.locator(sel('conflict'));
    await banner.waitFor();
    assert.match(await banner.textContent(), /changed in another tab or window/);
    await other.screenshot({ path: `${shots}/notebook-conflict.png` });
    await other.click(sel('conflict-keep-both'));
    await banner.waitFor({ state: 'detached' });
    assert.equal((await sources(other))[1].text, 'SELECT 1 AS from_tab_one');
    const mine = other.locator(`${sel('notebook-item')}[title="Untitled notebook (my edits)"]`);
    await mine.waitFor();
    await mine.click();
    await other.waitForFunction(() => document.querySelector('[data-testid="notebook-title"]').textContent.endsWith('(my edits)'));
    assert.equal((await sources(other))[1].text, 'SELECT 2 AS from_tab_two');
  } finally {
    await other.close();
  }
});

test('data files: picked or dropped, they become browser views in the catalog and are queried in the browser', async () => {
  await page.click(sel('notebook-file-menu'));
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(sel('add-data-files'))]);
  await chooser.setFiles([{ name: 'fares 2026.csv', mimeType: 'text/csv', buffer: Buffer.from('id,fare\n1,2.5\n2,4.0\n3,1.25\n') }]);
  await page.locator(`${sel('catalog-item')}[data-name="memory.main.fares_2026"][data-kind="view"]`).waitFor();
  assert.match(await page.textContent(sel('added-files')), /fares 2026\.csv → memory\.main\.fares_2026/);
  // a drop, as the browser delivers it: a drop event whose DataTransfer holds the file
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['{"kind":"cat"}\n{"kind":"dog"}\n'], 'pets.jsonl', { type: 'application/json' }));
    const target = document.querySelector('.panes');
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { bubbles: true, dataTransfer: dt }));
  });
  await page.waitForFunction(() => /pets\.jsonl/.test(document.querySelector('[data-testid="added-files"]')?.textContent));
  assert.match(await page.textContent(sel('added-files')), /pets\.jsonl → memory\.main\.pets/);
  await page.locator(`${sel('catalog-item')}[data-name="memory.main.pets"]`).waitFor();
  await page.click(sel('add-cell'));
  await page.keyboard.type('SELECT count(*) AS n, sum(fare) AS total FROM fares_2026');
  await page.keyboard.press('Control+Enter');
  const n = await page.locator(sel('cell')).count();
  assert.match(await statusOf(page, n - 1), /^local · 1 row/);
  assert.deepEqual(await resultTexts(page, n - 1), ['3', '7.75']);
  await typeInto(page, n - 1, 'SELECT kind FROM pets ORDER BY kind');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((i) => document.querySelectorAll('[data-testid="cell"]')[i]
    .querySelector('[data-testid="grid-cell"]')?.textContent === 'cat', n - 1);
  assert.deepEqual(await resultTexts(page, n - 1), ['cat', 'dog']);
  // Parquet: refused with the reason (no Parquet reader offline)
  await page.click(sel('notebook-file-menu'));
  const [again] = await Promise.all([page.waitForEvent('filechooser'), page.click(sel('add-data-files'))]);
  await again.setFiles([{ name: 'x.parquet', mimeType: 'application/octet-stream', buffer: Buffer.from('PAR1') }]);
  await page.waitForFunction(() => /x\.parquet could not be read in the browser: .*offline/
    .test(document.querySelector('[data-testid="added-files"]')?.textContent));
});

test('delete sends a notebook to the trash, restore brings it back; duplicate copies it; panes collapse', async () => {
  await page.reload();
  await page.evaluate(() => window.mdApp.ready);
  const title = await page.textContent(sel('notebook-title'));
  const item = page.locator(`${sel('notebook-list')} li[class="open"]`);
  await item.hover();
  await item.locator(sel('notebook-duplicate')).click();
  await page.waitForFunction((t) => document.querySelector('[data-testid="notebook-title"]').textContent === `${t} (copy)`, title);
  const copy = page.locator(`${sel('notebook-list')} li[class="open"]`);
  await copy.hover();
  await copy.locator(sel('notebook-delete')).click();
  await page.locator(sel('trash')).waitFor();
  await page.click(`${sel('trash')} summary`);
  assert.match(await page.textContent(sel('trash')), /\(copy\).*7 days left/);
  await page.click(sel('notebook-restore'));
  await page.waitForFunction((t) => document.querySelector('[data-testid="notebook-title"]').textContent === `${t} (copy)`, title);
  assert.equal(await page.locator(sel('trash')).count(), 0);
  await page.click(sel('toggle-left'));
  await page.click(sel('toggle-right'));
  assert.equal(await page.locator(sel('catalog')).isVisible(), false);
  assert.equal(await page.locator(sel('inspector')).isVisible(), false);
  await page.click(sel('theme-toggle')); // dark
  await page.screenshot({ path: `${shots}/notebook-dark-collapsed.png` });
  await page.click(sel('toggle-left'));
  await page.click(sel('toggle-right'));
  await page.click(sel('theme-toggle'));
  await page.click(sel('theme-toggle')); // back to the system's
  assert.equal(await page.locator(sel('catalog')).isVisible(), true);
  assert.deepEqual(pageErrors, []);
});
