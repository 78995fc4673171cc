// SharedWithMe.jsx: the catalog's "Shared with me": the shares other users
// list to this user (md_information_schema.shared_with_me), each attached
// with one click (under its database's name, or the share's when that is
// taken), and an "Attach a share URL" box for hidden ones.

import { useSignal } from '@preact/signals';
import { attachShareSql, serverRows, sharedWithMe } from './sharing.js';
import { catalog, refreshCatalog } from './store.js';

export function SharedWithMe() {
  const list = useSignal(null);
  const error = useSignal(null);
  const url = useSignal('');
  const load = () => sharedWithMe().then((rows) => { list.value = rows; error.value = null; },
    (e) => { error.value = e.message; });
  const open = (ev) => { if (ev.currentTarget.open) load(); };
  const attached = new Set(catalog.value.databases.filter((d) => d.site === 'remote').map((d) => d.name.toLowerCase()));
  const attach = async (u, alias) => {
    error.value = null;
    try {
      await serverRows(attachShareSql(u, alias));
      await refreshCatalog();
      await load();
    } catch (e) {
      error.value = e.message;
    }
  };
  return (
    <section class="shared" data-testid="shared-with-me">
      <details onToggle={open}>
        <summary><h2>Shared with me</h2></summary>
        {error.value && <p class="empty error" data-testid="shared-error">{error.value}</p>}
        {list.value && !list.value.length && <p class="empty">nothing shared with you yet</p>}
        <ul>
          {(list.value ?? []).map((s) => {
            const alias = attached.has(s.source_db_name.toLowerCase()) ? s.name : s.source_db_name;
            const on = attached.has(alias.toLowerCase());
            return (
              <li data-testid="shared-item" data-name={s.name} data-owner={s.owner}>
                <span class="item" title={`${s.owner}'s share ${s.name} of ${s.source_db_name} (${s.update.toLowerCase()})`}>
                  <span class="icon">⇄</span>{s.name} <small>{s.owner}</small>
                </span>
                {on ? <small class="attached">attached</small>
                  : <button class="link" data-testid="shared-attach" onClick={() => attach(s.url, alias)}>attach</button>}
              </li>
            );
          })}
        </ul>
        <form class="attach-url" onSubmit={(e) => { e.preventDefault(); const u = url.value.trim(); if (u) { url.value = ''; attach(u); } }}>
          <input data-testid="shared-url" placeholder="md:_share/…" value={url.value} aria-label="Share URL to attach"
            onInput={(e) => { url.value = e.currentTarget.value; }} />
          <button type="submit" data-testid="shared-url-attach">Attach</button>
        </form>
      </details>
    </section>
  );
}
