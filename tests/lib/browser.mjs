// tests/lib/browser.mjs: Debian's Chromium driven by playwright-core, headless,
// with a fresh profile; every request the page makes is recorded so a test
// can fail when one leaves the server's origin.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Launch Chromium (extra command-line `args` if given); resolves to {context, page, requests, close()}. */
export async function launch({ args = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'mdtest-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args],
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context, page, requests,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
