// Catalog.jsx: the left pane: both catalogs as one tree, Browser (the local
// site) and Server, database > schema > table or view; a filter box keeps
// the tables whose qualified name contains its text.  Clicking a table shows
// it in the inspector.  Each server database lists its snapshots when
// opened; a click on one attaches it as it was (time travel) in a new cell.
// A server database's share button opens the share dialog; "Shared with
// me" lists what other users share with this one.

import { useSignal } from '@preact/signals';
import { CACHE_DB } from '/js/localdb.js';
import { ShareDialog } from './ShareDialog.jsx';
import { SharedWithMe } from './SharedWithMe.jsx';
import { attachSnapshotSql, snapshotsOf } from './snapshots.js';
import { addCell, catalog, cells, currentCell, editCell, inspectorTab, selected } from './store.js';
import './Catalog.css';

const SITES = [['local', 'Browser'], ['remote', 'Server']];
// Server databases that are not the user's to share.
const NOT_SHARED = new Set(['temp', 'system', 'md_information_schema']);

function Table({ db, schema, t, site }) {
  const name = `${db.name}.${schema.name}.${t.name}`;
  const sel = selected.value;
  const active = sel && sel.name === name;
  return (
    <li>
      <button class={`item${active ? ' active' : ''}`} data-testid="catalog-item" data-kind={t.view ? 'view' : 'table'}
        data-name={name} title={name}
        onClick={() => {
          selected.value = { name, site, database: db.name, schema: schema.name, table: t };
          inspectorTab.value = 'table';
        }}>
        <span class="icon">{t.view ? '◇' : '▦'}</span>{t.name}
      </button>
    </li>
  );
}

/** A server database's snapshots, read when opened; a click puts its time-travel ATTACH in a new cell. */
function Snapshots({ db }) {
  const list = useSignal(null); // null: not read; {rows} or {error}
  const open = (ev) => {
    if (!ev.currentTarget.open || list.value?.rows) return;
    list.value = { loading: true };
    snapshotsOf(db).then((rows) => { list.value = { rows }; }, (e) => { list.value = { error: e.message }; });
  };
  const attach = (id) => {
    const cur = cells.peek().find((c) => c.id === currentCell.peek()) ?? null;
    editCell(addCell(cur, attachSnapshotSql(db, id)));
  };
  const l = list.value;
  return (
    <li>
      <details class="snapshots" data-testid="catalog-snapshots" data-name={db} onToggle={open}>
        <summary>snapshots</summary>
        {l?.loading && <p class="empty">reading…</p>}
        {l?.error && <p class="empty">{l.error}</p>}
        {l?.rows && !l.rows.length && <p class="empty">none yet</p>}
        <ul>
          {(l?.rows ?? []).map((s) => (
            <li>
              <button class="item" data-testid="catalog-item" data-kind="snapshot" data-name={`${db}@${s.id}`}
                title={`Attach ${db} as it was at snapshot ${s.id} (${s.created} UTC), read-only, in a new cell`}
                onClick={() => attach(s.id)}>
                <span class="icon">◷</span>{s.id}{s.name ? ` ${s.name}` : ''} <small>{s.created.slice(0, 19)}</small>
              </button>
            </li>
          ))}
        </ul>
      </details>
    </li>
  );
}

export function Catalog() {
  const filter = useSignal('');
  const sharing = useSignal(null); // the database whose share dialog is open
  const f = filter.value.trim().toLowerCase();
  return (
    <nav class="catalog" data-testid="catalog">
      <input class="filter" data-testid="catalog-filter" placeholder="Filter tables…" value={filter.value}
        onInput={(e) => { filter.value = e.currentTarget.value; }} aria-label="Filter tables" />
      {SITES.map(([site, label]) => (
        <section>
          <h2>{label}</h2>
          <ul>
            {catalog.value.databases.filter((d) => d.site === site && !(site === 'local' && d.name === CACHE_DB)).map((db) => (
              <li>
                <span class="db-line">
                  <span class="db" data-testid="catalog-item" data-kind="database" data-name={db.name}>{db.name}</span>
                  {site === 'remote' && !NOT_SHARED.has(db.name) && (
                    <button class="share-db" data-testid="share-db" data-name={db.name} title={`Share ${db.name}`}
                      onClick={() => { sharing.value = db.name; }}>share</button>
                  )}
                </span>
                <ul>
                  {(db.schemas ?? []).map((schema) => {
                    const tables = (schema.tables ?? []).filter((t) => !f || `${db.name}.${schema.name}.${t.name}`.toLowerCase().includes(f));
                    if (!tables.length && f) return null;
                    return (
                      <li>
                        <span class="schema">{schema.name}</span>
                        <ul>{tables.map((t) => <Table db={db} schema={schema} t={t} site={site} />)}</ul>
                        {!tables.length && <p class="empty">no tables</p>}
                      </li>
                    );
                  })}
                  {site === 'remote' && !NOT_SHARED.has(db.name) && <Snapshots db={db.name} />}
                </ul>
              </li>
            ))}
          </ul>
        </section>
      ))}
      <SharedWithMe />
      {sharing.value && <ShareDialog db={sharing.value} onClose={() => { sharing.value = null; }} />}
    </nav>
  );
}
