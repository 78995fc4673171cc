// ShareDialog.jsx: sharing one of the user's server databases.  The dialog
// lists the database's shares (URL with a copy button, access, visibility,
// update; update now, drop), makes a new one, and manages the READ grants of
// a RESTRICTED share.  Everything is SQL (sharing.js); errors show in place.

import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { copyText } from './clipboard.js';
import { ACCESS, createShareSql, dropShareSql, grantSql, grantsOf, ownedShares, serverRows, UPDATE,
  updateShareSql, VISIBILITY } from './sharing.js';
import './ShareDialog.css';

const HELP = {
  ORGANIZATION: 'users of your organization who have the URL (and those granted READ)',
  RESTRICTED: 'only the users you grant READ',
  UNRESTRICTED: 'any user of this server who has the URL (always hidden)',
};

function Grants({ share, onError }) {
  const list = useSignal(null);
  const user = useSignal('');
  const load = () => grantsOf(share).then((rows) => { list.value = rows; }, (e) => onError(e.message));
  useEffect(() => { load(); }, [share]);
  const act = (users, revoke) => serverRows(grantSql(share, users, revoke)).then(load, (e) => onError(e.message));
  return (
    <div class="grants" data-testid="share-grants">
      <h4>Granted READ</h4>
      {list.value && !list.value.length && <p class="empty">nobody yet</p>}
      <ul>
        {(list.value ?? []).map((g) => (
          <li data-testid="share-grant" data-user={g.grantee_name}>
            <span>{g.grantee_name}</span>
            <button class="link" data-testid="share-revoke" onClick={() => act([g.grantee_name], true)}>revoke</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => { e.preventDefault(); const u = user.value.trim(); if (u) { user.value = ''; act([u], false); } }}>
        <input data-testid="share-grant-user" placeholder="user name" value={user.value} aria-label="User to grant READ"
          onInput={(e) => { user.value = e.currentTarget.value; }} />
        <button type="submit" data-testid="share-grant-add">Grant</button>
      </form>
    </div>
  );
}

export function ShareDialog({ db, onClose }) {
  const shares = useSignal(null);
  const error = useSignal(null);
  const copied = useSignal(null);
  const name = useSignal(db);
  const access = useSignal('ORGANIZATION');
  const visibility = useSignal('DISCOVERABLE');
  const update = useSignal('MANUAL');
  const busy = useSignal(false);
  const load = () => ownedShares(db).then((rows) => { shares.value = rows; }, (e) => { error.value = e.message; });
  useEffect(() => { load(); }, [db]);
  useEffect(() => {
    const key = (e) => { if (e.key === 'Escape') onClose(); };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);
  const run = async (sql) => {
    error.value = null;
    busy.value = true;
    try {
      await serverRows(sql);
      await load();
    } catch (e) {
      error.value = e.message;
    } finally {
      busy.value = false;
    }
  };
  const create = (ev) => {
    ev.preventDefault();
    const vis = access.value === 'UNRESTRICTED' ? 'HIDDEN' : visibility.value;
    let sql;
    try {
      sql = createShareSql({ name: name.value.trim(), db, access: access.value, visibility: vis, update: update.value });
    } catch (e) {
      error.value = e.message;
      return;
    }
    run(sql);
  };
  const copy = (url) => copyText(url).then(() => { copied.value = url; });
  return (
    <div class="modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="modal share-dialog" role="dialog" aria-modal="true" aria-labelledby="share-title"
        data-testid="share-dialog">
        <header>
          <h3 id="share-title">Share <code>{db}</code></h3>
          <button class="close" data-testid="share-close" aria-label="Close" onClick={onClose}>×</button>
        </header>
        {error.value && <p class="error" role="alert" data-testid="share-error">{error.value}</p>}
        <section>
          <h4>Shares of this database</h4>
          {shares.value === null && <p class="empty">reading…</p>}
          {shares.value && !shares.value.length && <p class="empty">none yet: make one below</p>}
          <ul class="share-list">
            {(shares.value ?? []).map((s) => (
              <li data-testid="share-row" data-name={s.name}>
                <div class="share-head">
                  <strong>{s.name}</strong>
                  <span class="tags">{s.access.toLowerCase()} · {s.visibility.toLowerCase()} · {s.update.toLowerCase()}</span>
                </div>
                <div class="url">
                  <input readonly value={s.url} data-testid="share-url" aria-label={`URL of ${s.name}`}
                    onFocus={(e) => e.currentTarget.select()} />
                  <button data-testid="share-copy" onClick={() => copy(s.url)}>{copied.value === s.url ? 'Copied' : 'Copy'}</button>
                </div>
                <div class="actions">
                  {s.update === 'MANUAL' && <button class="link" data-testid="share-update" disabled={busy.value}
                    title="Readers see the database as it is now" onClick={() => run(updateShareSql(s.name))}>update now</button>}
                  <button class="link danger" data-testid="share-drop" disabled={busy.value}
                    onClick={() => run(dropShareSql(s.name))}>drop</button>
                </div>
                {s.access === 'RESTRICTED' && <Grants share={s.name} onError={(m) => { error.value = m; }} />}
              </li>
            ))}
          </ul>
        </section>
        <form class="new-share" onSubmit={create} data-testid="share-form">
          <h4>New share</h4>
          <label>Name <input data-testid="share-name" value={name.value}
            onInput={(e) => { name.value = e.currentTarget.value; }} /></label>
          <label>Access <select data-testid="share-access" value={access.value}
            onChange={(e) => { access.value = e.currentTarget.value; }}>
            {ACCESS.map((a) => <option value={a}>{a.toLowerCase()}</option>)}
          </select></label>
          <p class="hint">{HELP[access.value]}</p>
          <label>Visibility <select data-testid="share-visibility" value={access.value === 'UNRESTRICTED' ? 'HIDDEN' : visibility.value}
            disabled={access.value === 'UNRESTRICTED'} onChange={(e) => { visibility.value = e.currentTarget.value; }}>
            {VISIBILITY.map((v) => <option value={v}>{v === 'DISCOVERABLE' ? 'listed to who may attach it' : 'hidden: URL only'}</option>)}
          </select></label>
          <label>Updates <select data-testid="share-update-mode" value={update.value}
            onChange={(e) => { update.value = e.currentTarget.value; }}>
            {UPDATE.map((u) => <option value={u}>{u === 'MANUAL' ? 'manual (UPDATE SHARE)' : 'automatic (every commit)'}</option>)}
          </select></label>
          <button type="submit" data-testid="share-create" disabled={busy.value}>Create share</button>
        </form>
      </div>
    </div>
  );
}
