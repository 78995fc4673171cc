// Queries.jsx: the user's open connections and what each runs (an
// administrator sees everyone's), read every second while shown, with a
// button that cancels a running query.  Through the HTTP API, so the list
// answers while this page's own query runs.

import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { interruptConnection, listConnections } from './admin_api.js';
import { session } from './store.js';

const seconds = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

export function Queries() {
  const list = useSignal(null);
  const error = useSignal(null);
  const own = session.value?.welcome?.connection_id;
  useEffect(() => {
    let stop = false;
    const tick = () => listConnections().then((rows) => { if (!stop) { list.value = rows; error.value = null; } },
      (e) => { if (!stop) error.value = e.message; });
    tick();
    const timer = setInterval(tick, 1000);
    return () => { stop = true; clearInterval(timer); };
  }, []);
  const cancel = (id) => interruptConnection(id).catch((e) => { error.value = e.message; });
  const rows = list.value ?? [];
  const running = rows.filter((c) => c.query);
  return (
    <section data-testid="queries-page">
      <div class="toolbar"><span data-testid="queries-count">{rows.length} connection{rows.length === 1 ? '' : 's'},
        {' '}{running.length} running</span></div>
      {error.value && <p class="error" role="alert" data-testid="queries-error">{error.value}</p>}
      <table>
        <thead><tr><th>Connection</th><th>User</th><th>Token</th><th>Client</th><th>Query</th><th>Running for</th><th /></tr></thead>
        <tbody>
          {rows.map((c) => (
            <tr data-testid="query-row" data-id={c.id} data-running={c.query ? 'yes' : 'no'}>
              <td class="mono">{c.id.slice(0, 8)}{c.id === own && <small> (this page)</small>}</td>
              <td>{c.user}</td>
              <td>{c.token_type}</td>
              <td>{c.client ?? ''}{c.session_name ? ` · ${c.session_name}` : ''}</td>
              <td class="mono query">{c.query ?? <span class="empty">idle</span>}</td>
              <td class="mono">{c.query ? seconds(c.elapsed_ms) : ''}</td>
              <td>{c.query && <button class="link danger" data-testid="query-cancel" onClick={() => cancel(c.id)}>cancel</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
