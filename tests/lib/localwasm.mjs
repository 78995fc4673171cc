// localwasm.mjs: duckdb-wasm's Node build (the same package version the
// page serves) as the page's local site: a LocalDb (ui/js/localdb.js) for
// Node tests of the modules that run in the page's session worker.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const require = createRequire(import.meta.url);
const PKG = resolve(ROOT, 'node_modules/@duckdb/duckdb-wasm');
const DIST = `${PKG}/dist`;

/** A LocalDb over a fresh duckdb-wasm (Node build); close() it after. */
export async function openLocalDb() {
  const duckdb = require(`${DIST}/duckdb-node-blocking.cjs`); // (not among the package's exports)
  const arrow = require(`${PKG}/node_modules/apache-arrow`); // the version duckdb-wasm reads and writes
  const { LocalDb } = await import('../../build/ui/js/localdb.js');
  const db = await duckdb.createDuckDB({
    mvp: { mainModule: `${DIST}/duckdb-mvp.wasm`, mainWorker: `${DIST}/duckdb-node-mvp.worker.cjs` },
    eh: { mainModule: `${DIST}/duckdb-eh.wasm`, mainWorker: `${DIST}/duckdb-node-eh.worker.cjs` },
  }, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate();
  return LocalDb.over({ ...duckdb, RecordBatchReader: arrow.RecordBatchReader }, db, null, 'node');
}
