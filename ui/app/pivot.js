// pivot.js: the page's one Perspective client, made on first use: the
// viewer's bundle (build/ui/app/pivot.js, from pivot_viewer.js) and its
// stylesheet are loaded then, and its DuckDB virtual server sends its
// queries to the session worker (result_views.js pivot).

import { CACHE_DB } from '/js/localdb.js';
import { session } from './store.js';

let client = null;

function loadStyles() {
  if (document.querySelector('link[data-perspective]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/vendor/perspective/themes.css';
  link.dataset.perspective = '';
  document.head.append(link);
}

/** The Perspective client (a promise), started the first time it is asked for. */
export function pivotClient() {
  client ??= (async () => {
    loadStyles();
    const { startPivot } = await import('/app/pivot.js');
    const s = session.peek();
    return startPivot({
      run: (sql, as) => s.panel({ op: 'pivot', sql, as }),
      tables: async () => (await s.panel({ op: 'cache' })).tables.map((t) => `${CACHE_DB}.main.${t}`),
    });
  })();
  client.catch(() => { client = null; }); // a failed start is tried again next time
  return client;
}
