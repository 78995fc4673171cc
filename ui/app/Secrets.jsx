// Secrets.jsx: the user's stored secrets (CREATE SECRET ... IN MOTHERDUCK):
// listed without values, created from a form (each value sent once, as a
// password field, never shown back), dropped.

import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { createSecretSql, dropSecretSql, SECRET_FIELDS, SECRET_TYPES, secretsList, serverRows } from './sharing.js';

const SECRET_WORDS = /SECRET|TOKEN|PASSWORD|CONNECTION_STRING/;

export function Secrets() {
  const list = useSignal(null);
  const error = useSignal(null);
  const status = useSignal(null);
  const name = useSignal('');
  const type = useSignal('s3');
  const values = useSignal({});
  const load = () => secretsList().then((rows) => { list.value = rows; }, (e) => { error.value = e.message; });
  useEffect(() => { load(); }, []);
  const run = async (sql, done) => {
    error.value = null;
    try {
      const rows = await serverRows(sql);
      status.value = rows[0]?.status ?? null;
      done?.();
      await load();
    } catch (e) {
      error.value = e.message;
    }
  };
  const create = (ev) => {
    ev.preventDefault();
    let sql;
    try {
      const fields = SECRET_FIELDS[type.value].map((k) => [k, values.value[k] ?? '']);
      sql = createSecretSql({ name: name.value.trim(), type: type.value, fields });
    } catch (e) {
      error.value = e.message;
      return;
    }
    run(sql, () => { values.value = {}; name.value = ''; });
  };
  return (
    <section data-testid="secrets-page">
      <p class="hint">Secrets are sealed on the server (AES-256-GCM) and reach only your own query engine. Their values
        are never shown again: to change one, create it again under the same name.</p>
      {error.value && <p class="error" role="alert" data-testid="secrets-error">{error.value}</p>}
      {status.value && <p class="hint" data-testid="secrets-status">{status.value}</p>}
      {list.value && !list.value.length && <p class="empty" data-testid="secrets-empty">No stored secrets yet.</p>}
      {list.value?.length > 0 && (
        <table>
          <thead><tr><th>Name</th><th>Type</th><th>Scope</th><th>State</th><th>Fields</th><th>Created (UTC)</th><th /></tr></thead>
          <tbody>
            {list.value.map((s) => (
              <tr data-testid="secret-row" data-name={s.name}>
                <td class="mono">{s.name}</td>
                <td>{s.type}</td>
                <td class="mono wrap">{s.scope ?? ''}</td>
                <td><span class={`state${s.active ? ' active' : ''}`}>{s.active ? 'active' : 'stored'}</span></td>
                <td class="mono wrap">{s.secret_string.split(';').slice(3).join('; ')}</td>
                <td class="mono">{s.created.slice(0, 19)}</td>
                <td><button class="link danger" data-testid="secret-drop" onClick={() => run(dropSecretSql(s.name))}>drop</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="form" onSubmit={create} data-testid="secret-form" autocomplete="off">
        <h4>New secret</h4>
        <label>Name <input data-testid="secret-name" value={name.value} required
          onInput={(e) => { name.value = e.currentTarget.value; }} /></label>
        <label>Type <select data-testid="secret-type" value={type.value}
          onChange={(e) => { type.value = e.currentTarget.value; values.value = {}; }}>
          {SECRET_TYPES.map((t) => <option value={t}>{t}</option>)}
        </select></label>
        {SECRET_FIELDS[type.value].map((k) => (
          <label>{k.toLowerCase()} <input data-testid={`secret-field-${k}`} value={values.value[k] ?? ''}
            type={SECRET_WORDS.test(k) ? 'password' : 'text'} autocomplete="off"
            onInput={(e) => { values.value = { ...values.value, [k]: e.currentTarget.value }; }} /></label>
        ))}
        <button type="submit" data-testid="secret-create">Store secret</button>
      </form>
    </section>
  );
}
