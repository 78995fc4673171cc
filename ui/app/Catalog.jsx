// Catalog.jsx: the left pane: both catalogs as one tree, Browser (the local
// site) and Server, database > schema > table or view; a filter box keeps
// the tables whose qualified name contains its text.  Clicking a table shows
// it in the inspector.

import { useSignal } from '@preact/signals';
import { catalog, inspectorTab, selected } from './store.js';
import './Catalog.css';

const SITES = [['local', 'Browser'], ['remote', 'Server']];

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

export function Catalog() {
  const filter = useSignal('');
  const f = filter.value.trim().toLowerCase();
  return (
    <nav class="catalog" data-testid="catalog">
      <input class="filter" data-testid="catalog-filter" placeholder="Filter tables…" value={filter.value}
        onInput={(e) => { filter.value = e.currentTarget.value; }} aria-label="Filter tables" />
      {SITES.map(([site, label]) => (
        <section>
          <h2>{label}</h2>
          <ul>
            {catalog.value.databases.filter((d) => d.site === site).map((db) => (
              <li>
                <span class="db" data-testid="catalog-item" data-kind="database" data-name={db.name}>{db.name}</span>
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
                </ul>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
