// Browser tests of the multi-user pages (ui/app/ShareDialog.jsx,
// SharedWithMe.jsx, Settings.jsx: Secrets, Tokens, Queries): Debian's
// Chromium (playwright-core) against a real ./mdserver on 127.0.0.1, two
// users in two browsers, driven with the mouse and the keyboard through
// data-testid elements.  Screenshots go to build/test-logs/sharing-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { startServer, createToken, ROOT } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';
import { sel } from '../lib/page.mjs';

let srv, alice, bob;
const shots = `${ROOT}/build/test-logs`;
const errors = [];
const SECRET_VALUE = 'tok-PAGE-never-shown-83hd';

async function open(user) {
  const b = await launch();
  b.page.on('pageerror', (e) => errors.push(`${user}: ${e.message}`));
  await b.page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.log(`CSP violation: ${e.violatedDirective} ${e.sample} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  b.page.on('console', (m) => { if (m.text().startsWith('CSP violation')) errors.push(`${user}: ${m.text()}`); });
  await b.page.goto(`${srv.http}/workspace.html#token=${createToken(srv.dataDir, user)}`);
  await b.page.evaluate(() => window.mdApp.ready);
  return b;
}

before(async () => {
  srv = await startServer();
  mkdirSync(shots, { recursive: true });
  alice = await open('alice');
  bob = await open('bob');
});
after(async () => {
  await alice?.close();
  await bob?.close();
  await srv?.stop({ removeData: true });
});

test('the share dialog makes a restricted share, grants it; the grantee attaches it from "Shared with me"', async () => {
  const p = alice.page;
  await p.evaluate(() => window.mdApp.run('CREATE TABLE my_db.fish AS SELECT range AS id, \'carp\' AS kind FROM range(12)'));
  await p.click(`${sel('share-db')}[data-name="my_db"]`);
  await p.waitForSelector(sel('share-dialog'));
  await p.waitForSelector(`${sel('share-dialog')} .empty`); // no share yet
  await p.fill(sel('share-name'), 'fish_share');
  await p.selectOption(sel('share-access'), 'RESTRICTED');
  await p.selectOption(sel('share-update-mode'), 'AUTOMATIC');
  await p.click(sel('share-create'));
  const row = p.locator(`${sel('share-row')}[data-name="fish_share"]`);
  await row.waitFor();
  assert.match(await row.locator(sel('share-url')).inputValue(), /^md:_share\/my_db\/[0-9a-f-]{36}$/);
  assert.match(await row.textContent(), /restricted · discoverable · automatic/);
  await row.locator(sel('share-grant-user')).fill('bob');
  await row.locator(sel('share-grant-user')).press('Enter');
  await row.locator(`${sel('share-grant')}[data-user="bob"]`).waitFor();
  await row.locator(sel('share-copy')).click();
  await p.waitForFunction(() => document.querySelector('[data-testid="share-copy"]').textContent === 'Copied');
  // a bad name is refused in place, the dialog stays
  await p.fill(sel('share-name'), 'bad name!');
  await p.click(sel('share-create'));
  await p.waitForSelector(sel('share-error'));
  await p.screenshot({ path: `${shots}/sharing-dialog.png` });
  await p.keyboard.press('Escape');
  await p.waitForSelector(sel('share-dialog'), { state: 'detached' });

  const q = bob.page;
  await q.click(`${sel('shared-with-me')} summary`);
  const item = q.locator(`${sel('shared-item')}[data-name="fish_share"]`);
  await item.waitFor();
  assert.equal(await item.getAttribute('data-owner'), 'alice');
  await item.locator(sel('shared-attach')).click();
  // bob's own my_db holds the database's name: the share's name is the alias
  await q.waitForSelector(`${sel('catalog-item')}[data-kind="database"][data-name="fish_share"]`);
  await item.locator('.attached').waitFor();
  const out = await q.evaluate(() => window.mdApp.run('SELECT count(*) AS n FROM fish_share.fish'));
  assert.equal(out.at(-1).rowCount, 1);
  await q.screenshot({ path: `${shots}/sharing-shared-with-me.png` });
  // a wrong URL says why
  await q.fill(sel('shared-url'), 'md:_share/my_db/00000000-0000-4000-8000-000000000000');
  await q.press(sel('shared-url'), 'Enter');
  assert.match(await q.textContent(sel('shared-error')), /no share at/);
});

test('the secrets page stores a secret without ever showing its value, and drops it', async () => {
  const p = alice.page;
  await p.click(sel('settings-open'));
  await p.waitForSelector(sel('secrets-page'));
  await p.waitForSelector(sel('secrets-empty'));
  await p.fill(sel('secret-name'), 'api_key');
  await p.selectOption(sel('secret-type'), 'http');
  assert.equal(await p.getAttribute(sel('secret-field-BEARER_TOKEN'), 'type'), 'password');
  await p.fill(sel('secret-field-BEARER_TOKEN'), SECRET_VALUE);
  await p.fill(sel('secret-field-SCOPE'), 'https://api.example.com');
  await p.click(sel('secret-create'));
  const row = p.locator(`${sel('secret-row')}[data-name="api_key"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /http.*https:\/\/api\.example\.com.*active.*bearer_token=redacted/);
  assert.equal(await p.inputValue(sel('secret-field-BEARER_TOKEN')), '', 'the form forgets the value');
  assert.ok(!(await p.content()).includes(SECRET_VALUE), 'the value is nowhere on the page');
  await p.fill(sel('secret-name'), 'lake');
  await p.selectOption(sel('secret-type'), 's3');
  await p.fill(sel('secret-field-KEY_ID'), 'AKIAEXAMPLE');
  await p.fill(sel('secret-field-SECRET'), SECRET_VALUE);
  await p.fill(sel('secret-field-REGION'), 'eu-west-1');
  await p.click(sel('secret-create'));
  await p.locator(`${sel('secret-row')}[data-name="lake"]`).waitFor();
  assert.match(await p.textContent(sel('secrets-status')), /httpfs/);
  await p.screenshot({ path: `${shots}/sharing-secrets.png` });
  await row.locator(sel('secret-drop')).click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await p.locator(sel('secret-row')).count(), 1);
});

test('the tokens page makes a token shown once, lists it with its kind and expiry, and revokes it', async () => {
  const p = alice.page;
  await p.click(sel('settings-tab-tokens'));
  await p.waitForSelector(sel('token-row'));
  assert.match(await p.textContent(sel('token-row')), /this page/);
  await p.selectOption(sel('token-kind'), 'read_scaling');
  await p.fill(sel('token-name'), 'dashboard');
  await p.selectOption(sel('token-expiry'), String(30 * 86400));
  await p.click(sel('token-create'));
  await p.waitForSelector(sel('token-new'));
  const token = await p.inputValue(sel('token-value'));
  assert.match(token, /^mdt_[A-Za-z0-9_-]{43}$/);
  const row = p.locator(`${sel('token-row')}[data-kind="read_scaling"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /dashboard.*Read scaling.*\d{4}-\d\d-\d\d/);
  await p.screenshot({ path: `${shots}/sharing-tokens.png` });
  await row.locator(sel('token-revoke')).click();
  await row.waitFor({ state: 'detached' });
});

test('running queries: the page lists its running query and cancels it', async () => {
  const p = alice.page;
  await p.click(sel('settings-close'));
  const cell = p.locator(sel('cell')).first();
  await cell.locator('.cm-content').click();
  await p.keyboard.press('Control+a');
  await p.keyboard.type('SELECT count(*) FROM range(100000000000) a');
  await p.keyboard.press('Control+Enter');
  await p.click(sel('settings-open'));
  await p.click(sel('settings-tab-queries'));
  const running = p.locator(`${sel('query-row')}[data-running="yes"]`);
  await running.waitFor();
  assert.match(await running.textContent(), /range\(100000000000\)/);
  assert.match(await running.textContent(), /this page/);
  await p.screenshot({ path: `${shots}/sharing-queries.png` });
  await running.locator(sel('query-cancel')).click();
  await running.waitFor({ state: 'detached' });
  await p.click(sel('settings-close'));
  await p.waitForFunction(() => /CANCELLED|cancel/i.test(document.querySelector('[data-testid="cell"]').textContent));
  // dark mode
  await p.click(sel('theme-toggle')); // system -> dark
  await p.click(sel('settings-open'));
  await p.waitForSelector(sel('secrets-page'));
  await p.screenshot({ path: `${shots}/sharing-settings-dark.png` });
  await p.click(sel('settings-close'));
  assert.deepEqual(errors, []);
});
