// token.js: the login token of a page.  Taken once from the URL fragment
// (#token=…, then removed from the address bar), kept in localStorage.  A
// token in the query string (?token=…) is never used, only removed: the query
// string reaches the server's request line and other sites' Referer.

export const TOKEN_KEY = 'mdserver.token';

/** The token of the URL's fragment, if any, stored; the address bar loses
 * every token it shows.  Returns the stored token (or null). */
export function takeToken() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const fromUrl = hash.get('token');
  if (fromUrl) localStorage.setItem(TOKEN_KEY, fromUrl);
  if (fromUrl !== null || url.searchParams.has('token')) {
    url.searchParams.delete('token');
    hash.delete('token');
    const rest = hash.toString();
    history.replaceState(null, '', url.pathname + url.search + (rest ? `#${rest}` : ''));
  }
  return localStorage.getItem(TOKEN_KEY);
}

