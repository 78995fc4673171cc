// admin_api.js: the server's HTTP API (server/api.c) as the page calls it,
// with the page's own token: its tokens, and its open connections (which
// must answer while a query runs, so they do not go through the session).

import { TOKEN_KEY } from '/js/token.js';

export const TOKEN_KINDS = [['read_write', 'Read/write'], ['read_only', 'Read-only'], ['read_scaling', 'Read scaling']];
// Expiry choices of the tokens page: label and seconds (0: never).
export const EXPIRIES = [['never', 0], ['1 day', 86400], ['30 days', 30 * 86400], ['90 days', 90 * 86400],
  ['1 year', 365 * 86400]];

/** One API call; resolves to the JSON answer, throws an Error with the server's sentence. */
export async function api(method, path, body) {
  const token = localStorage.getItem(TOKEN_KEY);
  const r = await fetch(`/api/v1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(json.message ?? `HTTP ${r.status}`), { status: r.status });
  return json;
}

const enc = encodeURIComponent;
export const listTokens = (user) => api('GET', `users/${enc(user)}/tokens`);
export const createToken = (user, { kind, name, ttl }) =>
  api('POST', `users/${enc(user)}/tokens`, { token_type: kind, ...(name ? { name } : {}), ...(ttl ? { ttl } : {}) });
export const revokeToken = (user, id) => api('DELETE', `users/${enc(user)}/tokens/${id}`);
export const listConnections = () => api('GET', 'connections');
export const interruptConnection = (id) => api('POST', `connections/${enc(id)}/interrupt`);
