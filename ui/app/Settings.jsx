// Settings.jsx: the settings pages, over the workspace: stored secrets,
// access tokens and running queries.  Opened from the header; Escape or the
// close button leaves.

import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { Queries } from './Queries.jsx';
import { Secrets } from './Secrets.jsx';
import { Tokens } from './Tokens.jsx';
import './ShareDialog.css';
import './Settings.css';

const PAGES = [['secrets', 'Secrets', Secrets], ['tokens', 'Tokens', Tokens], ['queries', 'Running queries', Queries]];

export function Settings({ page = 'secrets', onClose }) {
  const current = useSignal(page);
  useEffect(() => {
    const key = (e) => { if (e.key === 'Escape') onClose(); };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);
  const Page = PAGES.find(([id]) => id === current.value)[2];
  return (
    <div class="modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="modal settings" role="dialog" aria-modal="true" aria-label="Settings" data-testid="settings">
        <header>
          <nav role="tablist">
            {PAGES.map(([id, label]) => (
              <button role="tab" aria-selected={current.value === id} data-testid={`settings-tab-${id}`}
                onClick={() => { current.value = id; }}>{label}</button>
            ))}
          </nav>
          <button class="close" data-testid="settings-close" aria-label="Close" onClick={onClose}>×</button>
        </header>
        <Page />
      </div>
    </div>
  );
}
