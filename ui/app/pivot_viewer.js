// pivot_viewer.js: Perspective's viewer (@perspective-dev/viewer 5.5.1 with
// its datagrid and the d3fc charts 4.4.1) over duckdb-wasm: a bundle of its
// own (build/ui/app/pivot.js), loaded the first time a panel shows a pivot
// or a chart, so the workspace starts without it.
//
// Every aggregation is DuckDB's: the viewer talks to Perspective's DuckDB
// virtual server (DuckDBHandler, @perspective-dev/client), which runs here
// and sends its SQL to the session worker (result_views.js pivot) through
// `run(sql, as)`.  What it needed here (docs/architecture.md, the results
// panel):
//   - its view tables are TEMP tables (of the worker's pivot connection),
//     not tables of the user's database;
//   - integer columns are reported as integers (upstream reports BIGINT as
//     float, so group keys read "27.00");
//   - the d3fc plugin, written for the viewer 4 API, gets get_static_config;
//   - the server's wasm is never fetched (a virtual server does not use it);
//   - the viewer's JavaScript glue is given to it, so it imports no blob:
//     URL (the page's CSP allows none);
//   - median, mode, count distinct (exact and approximate), standard
//     deviation and variance are offered too (upstream's DuckDB list lacks them).

import perspectiveViewer from '@perspective-dev/viewer';
import * as viewerGlue from '@perspective-dev/viewer/dist/wasm/perspective-viewer.js';
import '@perspective-dev/viewer-datagrid';
import '@perspective-dev/viewer-d3fc';
import perspective from '@perspective-dev/client';
import { DuckDBHandler } from '@perspective-dev/client/dist/esm/virtual_servers/duckdb.js';

const VIEWER_WASM = '/vendor/perspective/perspective-viewer.wasm';
// DuckDB aggregates the viewer offers beyond upstream's list (count_distinct is a macro of the
// session worker's pivot connection: count(DISTINCT x))
const NUMBER_AGGREGATES = ['median', 'mode', 'count_distinct', 'approx_count_distinct', 'stddev_samp', 'stddev_pop',
  'var_samp', 'var_pop', 'entropy'];
const OTHER_AGGREGATES = ['min', 'max', 'mode', 'count_distinct', 'approx_count_distinct'];
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'hugeint', 'utinyint', 'usmallint',
  'uinteger', 'ubigint', 'uhugeint']);

// Registering <perspective-viewer> asks every plugin for its static
// config, which the d3fc plugins of 4.4.1 do not have yet: give their base
// class one first.
const d3fcBase = Object.getPrototypeOf(customElements.get('perspective-viewer-d3fc-ybar').prototype);
d3fcBase.get_static_config ??= function staticConfig() {
  return {
    name: this.name, category: this.category, select_mode: this.select_mode,
    min_config_columns: this.min_config_columns, config_column_names: this.config_column_names,
    max_cells: this.max_cells, max_columns: this.max_columns, group_rollup_modes: ['flat'], priority: 0,
  };
};

/** The virtual server over the session worker's pivot connection. */
class CacheHandler extends DuckDBHandler {
  #tables;
  #memo = new Map();

  constructor(conn, mod, tables) {
    super(conn, mod);
    this.#tables = tables;
    this.sqlBuilder = new mod.GenericSQLVirtualServerModel({
      column_separator: '|', like_escape_clause: '\\', regex_fn: 'regexp_matches', create_entity: 'TEMP TABLE',
    });
  }

  #once(key, fn) {
    if (!this.#memo.has(key)) this.#memo.set(key, fn().catch((e) => { this.#memo.delete(key); throw e; }));
    return this.#memo.get(key);
  }

  /** Upstream's features, with more of DuckDB's aggregates (each is `name(column)` in the SQL). */
  getFeatures() {
    const f = super.getFeatures();
    const add = (list, more) => [...list, ...more.filter((a) => !list.includes(a))];
    const aggregates = { ...f.aggregates };
    for (const t of ['integer', 'float']) aggregates[t] = add(aggregates[t], NUMBER_AGGREGATES);
    for (const t of ['string', 'boolean', 'date', 'datetime']) aggregates[t] = add(aggregates[t], OTHER_AGGREGATES);
    return { ...f, aggregates };
  }

  /** The cached results (instead of SHOW ALL TABLES, which reads every catalog). */
  getHostedTables() { return this.#tables(); }

  tableSize(id) { return this.#once(`size:${id}`, () => super.tableSize(id)); }

  viewColumnSize(id, config) { return this.#once(`cols:${id}:${JSON.stringify(config)}`, () => super.viewColumnSize(id, config)); }

  tableSchema(id, config) {
    return this.#once(`schema:${id}`, async () => {
      const schema = await super.tableSchema(id, config);
      for (const r of (await this.db.query(this.sqlBuilder.tableSchema(id))).toArray()) {
        const { column_name: name, column_type: type } = r.toJSON();
        if (name in schema && INTEGER_TYPES.has(String(type).toLowerCase())) schema[name] = 'integer';
      }
      return schema;
    });
  }

  async viewDelete(id) {
    for (const k of [...this.#memo.keys()]) if (k.includes(id)) this.#memo.delete(k);
    return super.viewDelete(id);
  }
}

/**
 * Start the viewer's wasm and a client whose server is DuckDB: run(sql, as)
 * answers a query of the virtual server ('rows': plain objects; 'ipc': Arrow
 * IPC bytes), tables() the names of the tables it may show.  Resolves to
 * the client, for viewer.load(client).
 */
export async function startPivot({ run, tables }) {
  // (all of the connection the virtual server uses)
  const conn = {
    async query(sql) {
      const rows = await run(sql, 'rows');
      return { toArray: () => rows.map((r) => ({ toJSON: () => r })) };
    },
    useUnsafe(fn) { return fn({ runQuery: (_conn, sql) => run(sql, 'ipc') }, 0); },
  };
  await perspectiveViewer.init_client(fetch(VIEWER_WASM), viewerGlue);
  perspective.init_server(new ArrayBuffer(0), true);
  const mod = customElements.get('perspective-viewer').__wasm_module__;
  return perspective.worker(perspective.createMessageHandler(new CacheHandler(conn, mod, tables)));
}
