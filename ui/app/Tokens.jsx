// Tokens.jsx: the user's access tokens (server/api.c): kind, name, created,
// expiry, last use; a new one (kind, name, expiry) is shown once, to copy;
// revoking one ends its open sessions within a second (this page's own
// token is marked, and revoking it asks first).

import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { TOKEN_KEY } from '/js/token.js';
import { createToken, EXPIRIES, listTokens, revokeToken, TOKEN_KINDS } from './admin_api.js';
import { copyText } from './clipboard.js';
import { session } from './store.js';

const KIND_LABEL = Object.fromEntries(TOKEN_KINDS);

export function Tokens() {
  const user = session.value?.welcome?.user;
  const list = useSignal(null);
  const error = useSignal(null);
  const made = useSignal(null);
  const copied = useSignal(false);
  const kind = useSignal('read_write');
  const name = useSignal('');
  const expiry = useSignal('0');
  const mine = (localStorage.getItem(TOKEN_KEY) ?? '').slice(0, 8);
  const load = () => listTokens(user).then((rows) => { list.value = rows; }, (e) => { error.value = e.message; });
  useEffect(() => { load(); }, []);
  const create = async (ev) => {
    ev.preventDefault();
    error.value = null;
    try {
      made.value = await createToken(user, { kind: kind.value, name: name.value.trim(), ttl: Number(expiry.value) });
      copied.value = false;
      name.value = '';
      await load();
    } catch (e) {
      error.value = e.message;
    }
  };
  const revoke = async (t) => {
    if (t.prefix === mine && !confirm('This is the token this page is signed in with: revoke it and be signed out?')) return;
    error.value = null;
    try {
      await revokeToken(user, t.id);
      await load();
    } catch (e) {
      error.value = e.message;
    }
  };
  const valid = (list.value ?? []).filter((t) => !t.revoked_at);
  return (
    <section data-testid="tokens-page">
      <p class="hint">Tokens of <strong>{user}</strong>. A read-only token reads on your own engine; a read-scaling
        token reads on read replicas, which follow your commits within a second.</p>
      {error.value && <p class="error" role="alert" data-testid="tokens-error">{error.value}</p>}
      {made.value && (
        <div class="new-token" data-testid="token-new">
          <strong>New {KIND_LABEL[made.value.token_type].toLowerCase()} token</strong>: copy it now, it is not shown again.
          <div class="url">
            <input readonly value={made.value.token} data-testid="token-value" onFocus={(e) => e.currentTarget.select()} />
            <button data-testid="token-copy" onClick={() => copyText(made.value.token).then(() => { copied.value = true; })}>
              {copied.value ? 'Copied' : 'Copy'}</button>
          </div>
        </div>
      )}
      {list.value && (
        <table>
          <thead><tr><th>Name</th><th>Kind</th><th>Token</th><th>Created</th><th>Expires</th><th>Last used</th><th /></tr></thead>
          <tbody>
            {valid.map((t) => (
              <tr data-testid="token-row" data-id={t.id} data-kind={t.token_type}>
                <td class="wrap">{t.name ?? <span class="empty">unnamed</span>}{t.prefix === mine && <small> (this page)</small>}</td>
                <td>{KIND_LABEL[t.token_type] ?? t.token_type}</td>
                <td class="mono">{t.prefix}…</td>
                <td class="mono">{t.created_at}</td>
                <td class="mono">{t.expires_at ?? 'never'}</td>
                <td class="mono">{t.last_used_at ?? 'never'}</td>
                <td><button class="link danger" data-testid="token-revoke" onClick={() => revoke(t)}>revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="form" onSubmit={create} data-testid="token-form">
        <h4>New token</h4>
        <label>Kind <select data-testid="token-kind" value={kind.value} onChange={(e) => { kind.value = e.currentTarget.value; }}>
          {TOKEN_KINDS.map(([k, label]) => <option value={k}>{label}</option>)}
        </select></label>
        <label>Name <input data-testid="token-name" value={name.value} placeholder="what it is for"
          onInput={(e) => { name.value = e.currentTarget.value; }} /></label>
        <label>Expires <select data-testid="token-expiry" value={expiry.value} onChange={(e) => { expiry.value = e.currentTarget.value; }}>
          {EXPIRIES.map(([label, s]) => <option value={String(s)}>{label}</option>)}
        </select></label>
        <button type="submit" data-testid="token-create">Create token</button>
      </form>
    </section>
  );
}
