// page.js: the minimal query page (ui/index.html): login, SQL box, Run and
// Cancel, progress, status line, error with its position, first rows, CSV
// files dropped or picked.  Everything it runs goes to the session worker
// (session.js, session.worker.js): this thread only renders.
//
// Token: taken once from the URL fragment (#token=…, then removed from the
// address bar, also in a tab already logged in), kept in localStorage; a
// token the server refuses is forgotten and the login form comes back.  A
// token in the query string (?token=…) is never used, only removed: the
// query string reaches the server's request line and other sites' Referer.
//
// For automation window.mdPage exposes {runtime (the Session), ready} (ready
// resolves when the session is up), the elements carry data-testid attributes, and
// performance marks md:start, md:ready and md:result-shown time the page.

import { Session } from './session.js';
import { fmtBytes, fmtInt, fmtMs, fmtRows, isNumeric, sqlType, valueText } from './rows.js';
import { TOKEN_KEY, takeToken } from './token.js';
const $ = (id) => document.getElementById(id);
const el = {
  conn: $('conn'), login: $('login'), loginForm: $('login-form'), tokenInput: $('token-input'),
  loginError: $('login-error'), workspace: $('workspace'), sql: $('sql'), run: $('run'),
  cancel: $('cancel'), file: $('file'), progress: $('progress'), status: $('status'),
  error: $('error'), results: $('results'), drop: $('drop'),
};

function setConn(state, text) {
  el.conn.className = `conn ${state}`;
  el.conn.textContent = text;
}

function showLogin(message) {
  el.workspace.hidden = true;
  el.login.hidden = false;
  el.loginError.hidden = !message;
  el.loginError.textContent = message ?? '';
  el.tokenInput.focus();
}

// ---- results ----------------------------------------------------------------

function showResult(r) {
  const table = el.results;
  table.replaceChildren();
  if (!r) return;
  const head = table.createTHead().insertRow();
  for (const c of r.columns) {
    const th = document.createElement('th');
    th.textContent = c.name;
    const small = document.createElement('small');
    small.textContent = ` ${sqlType(c)}`;
    th.append(small);
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of r.rows) {
    const tr = body.insertRow();
    for (const c of r.columns) {
      const td = tr.insertCell();
      const text = valueText(row[c.name], c);
      if (text === null) {
        td.className = 'null';
        td.textContent = 'NULL';
      } else {
        if (isNumeric(c)) td.className = 'num';
        else if (c.name === 'explain_value') td.className = 'plan'; // EXPLAIN's plan text keeps its lines
        td.textContent = text;
      }
    }
  }
}

function statusText(r, totalMs) {
  const h = r.hybrid;
  const where = r.site === 'local' ? 'local' : r.site === 'server' ? 'remote (server)'
    : h ? `hybrid (${h.mode}, final step ${h.root === 'local' ? 'in the browser' : 'on the server'})` : 'remote';
  const parts = [where, fmtRows(r.rowCount), fmtMs(totalMs)];
  if (h) parts.push(`${fmtBytes(h.bytesUp)} sent to the server`, `${fmtBytes(h.bytesDown + (h.root === 'remote' ? r.bytes : 0))} received`);
  else if (r.site !== 'local') parts.push(`${fmtBytes(r.bytes)} received`);
  if (r.rowCount > r.rows.length) parts.push(`first ${fmtInt.format(r.rows.length)} shown`);
  if (r.cacheTable) parts.push(`cached as ${r.cacheTable}`);
  if (r.notice) parts.push(r.notice);
  return parts.join(' · ');
}

function showError(err, sql) {
  let text = err.message;
  if (typeof err.position === 'number') {
    const before = sql.slice(0, err.position);
    const line = before.split('\n').length;
    const col = err.position - before.lastIndexOf('\n');
    const lineText = sql.split('\n')[line - 1];
    text += `\nat line ${line}, column ${col}:\n  ${lineText}\n  ${' '.repeat(col - 1)}^`;
    el.sql.focus();
    el.sql.setSelectionRange(err.position, err.position);
  }
  el.error.textContent = text;
  el.error.dataset.code = err.code ?? '';
  if (typeof err.position === 'number') el.error.dataset.position = String(err.position);
  else delete el.error.dataset.position;
  el.error.hidden = false;
}

// ---- running ----------------------------------------------------------------

let runtime = null;

async function run() {
  if (!runtime || el.run.disabled) return;
  const sql = el.sql.selectionStart !== el.sql.selectionEnd
    ? el.sql.value.slice(el.sql.selectionStart, el.sql.selectionEnd) : el.sql.value;
  el.run.disabled = true;
  el.cancel.disabled = false;
  el.error.hidden = true;
  el.progress.hidden = true;
  el.progress.removeAttribute('value');
  el.status.textContent = 'running…';
  const t0 = performance.now();
  try {
    const out = await runtime.run(sql, {
      onStatement: (st) => {
        el.status.textContent = `running ${st.route === 'local' ? 'locally' : st.route === 'hybrid' ? 'across the browser and the server' : 'on the server'}…`;
      },
      onProgress: (p) => {
        if (typeof p.percent === 'number' && p.percent >= 0) {
          el.progress.hidden = false;
          el.progress.value = p.percent;
        }
      },
      onRows: (r) => {
        showResult(r);
        el.status.textContent = `receiving… first rows cached in ${r.cacheTable}`;
      },
    });
    const last = out.results[out.results.length - 1];
    showResult(last);
    performance.mark('md:result-shown');
    el.status.textContent = last ? statusText(last, performance.now() - t0) : 'nothing to run';
    el.status.dataset.site = last?.site ?? '';
    el.status.dataset.rows = String(last?.rowCount ?? 0);
  } catch (e) {
    el.status.textContent = e.code === 'CANCELLED' ? 'cancelled' : 'failed';
    el.status.dataset.site = '';
    showResult(null);
    showError(e, sql);
  } finally {
    el.run.disabled = false;
    el.cancel.disabled = true;
    el.progress.hidden = true;
  }
}

async function addFiles(files) {
  for (const f of files) {
    try {
      const query = await runtime.addFile(f);
      el.status.textContent = `added ${f.name} (${fmtBytes(f.size)}) to the local database: ${query}`;
      if (!el.sql.value.trim() || el.sql.value === el.sql.defaultValue) el.sql.value = `${query};`;
    } catch (e) {
      showError(e, '');
    }
  }
}

function wire() {
  el.run.addEventListener('click', run);
  el.cancel.addEventListener('click', () => {
    if (runtime?.cancel()) el.status.textContent = 'cancelling…';
  });
  el.sql.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      run();
    }
  });
  el.file.addEventListener('change', () => {
    addFiles([...el.file.files]);
    el.file.value = '';
  });
  let depth = 0;
  document.addEventListener('dragenter', (ev) => {
    if (!runtime || !ev.dataTransfer?.types.includes('Files')) return;
    depth++;
    el.drop.hidden = false;
  });
  document.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; el.drop.hidden = true; } });
  document.addEventListener('dragover', (ev) => { if (runtime) ev.preventDefault(); });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    el.drop.hidden = true;
    if (runtime && ev.dataTransfer?.files.length) addFiles([...ev.dataTransfer.files]);
  });
}

async function start(token) {
  performance.mark('md:start');
  el.login.hidden = true;
  setConn('connecting', 'connecting…');
  try {
    runtime = await Session.start({ token });
  } catch (e) {
    if (e.code === 'AUTH_FAILED') {
      localStorage.removeItem(TOKEN_KEY);
      setConn('unauthorized', 'not logged in');
      showLogin(e.message);
    } else {
      setConn('closed', 'cannot start');
      showLogin(`${e.message}`);
    }
    throw e;
  }
  const w = runtime.welcome;
  const label = () => `${w.user}${w.read_only ? ' (read-only)' : ''} · local DuckDB ${runtime.bundle}`;
  setConn('open', label());
  runtime.addEventListener('status', (ev) => {
    const d = ev.detail;
    if (d.state === 'open') setConn('open', label());
    else if (d.state === 'reconnecting') setConn('reconnecting', `reconnecting${d.delayMs ? ` in ${fmtMs(d.delayMs)}` : '…'}`);
    else setConn(d.state, d.state === 'unauthorized' ? 'token refused' : 'disconnected');
  });
  el.workspace.hidden = false;
  el.status.textContent = `ready in ${fmtMs(runtime.timings.ready)} (local DuckDB ${fmtMs(runtime.timings.duckdb_instantiate)})`;
  el.sql.focus();
  performance.mark('md:ready');
  return runtime;
}

let resolveReady, rejectReady;
const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
ready.catch(() => {});
window.mdPage = { ready, get runtime() { return runtime; }, get DISPLAY_ROWS() { return runtime?.displayRows; } };

wire();
el.loginForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = el.tokenInput.value.trim();
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  el.tokenInput.value = '';
  start(token).then(resolveReady, () => { /* the form shows why */ });
});

let starting = false;
function startFromUrlOrStorage() {
  const token = takeToken();
  if (!token) {
    setConn('unauthorized', 'not logged in');
    showLogin();
    return;
  }
  starting = true;
  start(token).then(resolveReady, (e) => { if (e.code !== 'AUTH_FAILED') rejectReady(e); })
    .finally(() => { starting = false; });
}
// A login link opened in an open tab changes only the fragment: the token
// leaves the address bar at once; a tab showing the login form logs in
// with it, a tab logged in with another token starts over with the new one.
window.addEventListener('hashchange', () => {
  if (!/token=/.test(location.hash)) return;
  const before = localStorage.getItem(TOKEN_KEY);
  const token = takeToken();
  if (!runtime && !starting) startFromUrlOrStorage();
  else if (token !== before) location.reload();
});
startFromUrlOrStorage();
