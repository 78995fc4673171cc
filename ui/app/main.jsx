// main.jsx: the workspace's entry (ui/workspace.html loads its bundle,
// build/ui/app/app.js).  Renders the App and logs in with the URL's or the
// stored token.  For automation, window.mdApp: ready (resolves when the
// session is up) and run(sql) (as a scratch cell: one {site, rowCount, ms}
// per statement shown, or a rejection with the error).

import { render } from 'preact';
import { App } from './App.jsx';
import { loginFromUrlOrStorage, runSql, session } from './store.js';

let resolveReady;
const ready = new Promise((res) => { resolveReady = res; });
window.mdApp = {
  ready,
  async run(sql) {
    const out = await runSql(sql);
    return out.results.map((r) => ({ site: r.site, rowCount: r.rowCount, ms: r.ms }));
  },
};
session.subscribe((s) => { if (s) resolveReady(); });

render(<App />, document.getElementById('app'));
loginFromUrlOrStorage().catch(() => { /* the login form shows why */ });
