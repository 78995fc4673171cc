// tests/lib/page.mjs: drive the query page (ui/index.html) through its
// data-testid elements, as a user would: type SQL, press Run, read the
// status line, the error box and the results table.

export const sel = (id) => `[data-testid="${id}"]`;

/** Open the page logged in with `token` (given in the URL fragment); waits until the session is up. */
export async function openPage(page, http, token) {
  await page.goto(token ? `${http}/#token=${token}` : `${http}/`);
  if (token) await page.evaluate(() => window.mdPage.ready);
}

/** What the page shows: status, site, row count, error (text, code, position) and the results table. */
export function readPage(page) {
  return page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const err = q('error');
    const table = q('results');
    const head = [...table.querySelectorAll('thead th')].map((th) => th.firstChild?.textContent ?? '');
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent));
    return {
      status: q('status').textContent,
      site: q('status').dataset.site || null,
      rowCount: q('status').dataset.rows === undefined ? null : Number(q('status').dataset.rows),
      error: err.hidden ? null : err.textContent,
      code: err.hidden ? null : err.dataset.code,
      position: err.hidden || err.dataset.position === undefined ? null : Number(err.dataset.position),
      head,
      rows,
    };
  });
}

/** Start `sql` with the Run button; does not wait for it to finish. */
export async function startSql(page, sql) {
  await page.fill(sel('sql-input'), sql);
  await page.click(sel('run'));
}

/** Wait until the page is idle again (Run enabled). */
export async function waitIdle(page, timeout = 60000) {
  await page.waitForFunction((s) => !document.querySelector(s).disabled, sel('run'), { timeout });
}

/** Run `sql` with the Run button and return readPage() once it finished. */
export async function runSql(page, sql) {
  await startSql(page, sql);
  await waitIdle(page);
  return readPage(page);
}

/**
 * Workspace: leave a cell's editor for command mode with Escape, as often
 * as it takes (the first Escape closes an open completion list, as in any
 * editor); waits until the page shows command mode.
 */
export async function escapeToCommand(page) {
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Escape');
    const done = await page.waitForFunction(() => document.querySelector('[data-testid="cell"].current.command'),
      null, { timeout: 1000 }).then(() => true, () => false);
    if (done) return;
  }
  throw new Error('the workspace did not go to command mode');
}

/**
 * Workspace: the texts of the grid cells of a cell (a locator), row by
 * row, once its results panel has read the rows it shows.
 */
export async function gridTexts(cell) {
  const grid = cell.locator('[data-testid="grid"][data-state="ready"]');
  await grid.waitFor();
  await cell.page().waitForFunction((el) => !el.querySelector('.grid-row.loading'), await grid.elementHandle());
  return cell.locator('[data-testid="grid-cell"]').allTextContents();
}
