// App.jsx: the workspace: a header (connection, pane toggles, theme, the
// settings pages: secrets, tokens, running queries), the
// login form until a session is up, then three panes: notebooks and the
// catalog, the notebook, the inspector.  The side panes resize with the
// drag handles beside them and collapse with the header's toggles.

import { signal, useSignal } from '@preact/signals';
import { addDataFiles } from './data_files.js';
import { Catalog } from './Catalog.jsx';
import { Inspector } from './Inspector.jsx';
import { Notebook } from './Notebook.jsx';
import { Notebooks } from './Notebooks.jsx';
import { Settings } from './Settings.jsx';
import { conn, leftOpen, login, loginError, rightOpen, session, setTheme, storeToken, theme } from './store.js';
import './App.css';

const NEXT_THEME = { system: 'dark', dark: 'light', light: 'system' };
// The settings pages shown over the workspace (their first tab), or null.
const settingsOpen = signal(null);

function Login() {
  const token = useSignal('');
  const submit = (ev) => {
    ev.preventDefault();
    const t = token.value.trim();
    if (!t) return;
    storeToken(t);
    token.value = '';
    login(t).catch(() => { /* the form shows why */ });
  };
  return (
    <form class="login" data-testid="login" onSubmit={submit}>
      <label for="token-input">Token</label>
      <input id="token-input" data-testid="token-input" type="password" autocomplete="off" placeholder="mdt_…"
        value={token.value} onInput={(e) => { token.value = e.currentTarget.value; }} />
      <button type="submit" data-testid="login-button">Log in</button>
      {loginError.value && <p class="error" data-testid="login-error">{loginError.value}</p>}
    </form>
  );
}

/** A drag handle that resizes the CSS variable `name` of the workspace. */
function Splitter({ name, sign }) {
  const down = (ev) => {
    const root = ev.currentTarget.parentElement;
    const start = ev.clientX;
    const width = parseFloat(getComputedStyle(root).getPropertyValue(name));
    const move = (e) => root.style.setProperty(name, `${Math.max(140, width + sign * (e.clientX - start))}px`);
    const up = () => { removeEventListener('pointermove', move); removeEventListener('pointerup', up); };
    addEventListener('pointermove', move);
    addEventListener('pointerup', up);
  };
  return <div class="splitter" role="separator" aria-orientation="vertical" onPointerDown={down} />;
}

/** Files dragged over the panes: the drop zone shows; dropped ones become browser views (data_files.js). */
const dragging = signal(false);
let dragDepth = 0;
const dropHandlers = {
  onDragEnter: (e) => { if (e.dataTransfer?.types?.includes('Files')) { dragDepth++; dragging.value = true; } },
  onDragLeave: () => { if (--dragDepth <= 0) { dragDepth = 0; dragging.value = false; } },
  onDragOver: (e) => { if (e.dataTransfer?.types?.includes('Files')) e.preventDefault(); },
  onDrop: (e) => {
    e.preventDefault();
    dragDepth = 0;
    dragging.value = false;
    if (e.dataTransfer.files.length) addDataFiles([...e.dataTransfer.files]);
  },
};

export function App() {
  const c = conn.value;
  return (
    <div class="app">
      <header>
        <h1>mdserver</h1>
        <span class={`conn ${c.state}`} data-testid="connection">{c.text}</span>
        <span class="header-tools">
          <button data-testid="toggle-left" aria-pressed={leftOpen.value} title="Show or hide notebooks and catalog"
            onClick={() => { leftOpen.value = !leftOpen.value; }}>◧</button>
          <button data-testid="toggle-right" aria-pressed={rightOpen.value} title="Show or hide the inspector"
            onClick={() => { rightOpen.value = !rightOpen.value; }}>◨</button>
          <button class="theme" data-testid="theme-toggle" title="Theme: system, dark or light"
            onClick={() => setTheme(NEXT_THEME[theme.value] ?? 'system')}>theme: {theme.value}</button>
          {session.value && <button data-testid="settings-open" title="Secrets, tokens and running queries"
            onClick={() => { settingsOpen.value = 'secrets'; }}>settings</button>}
        </span>
      </header>
      {!session.value && c.state !== 'connecting' && c.state !== 'starting' && <Login />}
      {session.value && (
        <div class={`panes${leftOpen.value ? '' : ' no-left'}${rightOpen.value ? '' : ' no-right'}`} {...dropHandlers}>
          {dragging.value && <div class="drop-zone" data-testid="drop-zone">Drop CSV or JSON files: they become
            views of the browser's database</div>}
          <div class="sidebar"><Notebooks /><Catalog /></div>
          <Splitter name="--left" sign={1} />
          <Notebook />
          <Splitter name="--right" sign={-1} />
          <Inspector />
        </div>
      )}
      {session.value && settingsOpen.value && <Settings page={settingsOpen.value} onClose={() => { settingsOpen.value = null; }} />}
    </div>
  );
}
