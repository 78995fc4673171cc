// server_export.js: a file of a cached result made by the server's DuckDB,
// for the formats duckdb-wasm cannot write offline (Parquet and JSON need
// DuckDB extensions it would download).  The rows go up as dual execution
// uploads them (UPLOAD into a temporary table of the session), the
// session's duckling writes the file with COPY into its own scratch
// directory (its temp_directory: the only place it may write besides the
// user's databases), and the file comes back as a query reading it with
// read_blob in parts of PART_BYTES.  Then the file is emptied (DuckDB has
// no way to delete it: what stays is one empty file per format) and the
// table dropped.

import { mdError } from './errors.js';
import { literal } from './localdb.js';

const PART_BYTES = 4 << 20;
const TABLE = 'md_export';
const FORMATS = { parquet: 'FORMAT parquet', json: 'FORMAT json, ARRAY true' };

/** The rows of a remote query, as objects. */
async function remoteRows(remote, local, sql) {
  const messages = [];
  await remote.query(sql, { onSchema: (b) => messages.push(b), onBatch: (b) => messages.push(b), catalog: false }).done;
  return messages.length ? local.readIpc(messages) : [];
}

/**
 * The bytes of a `format` ('parquet' | 'json') file of the rows of local
 * query `sql` (the cached result or a view of it), made by the server.
 */
export async function exportOnServer({ local, remote }, sql, format) {
  const options = FORMATS[format];
  if (!options) throw mdError('UNSUPPORTED', `the server does not write ${format} files here (Parquet or JSON)`);
  const { ipc } = await local.ipc(sql);
  await remote.upload(TABLE, ipc, { catalog: false });
  const [{ dir }] = await remoteRows(remote, local, "SELECT current_setting('temp_directory') AS dir");
  const path = literal(`${dir}/${TABLE}.${format}`);
  try {
    await remoteRows(remote, local, `COPY (FROM temp.main.${TABLE}) TO ${path} (${options})`);
    const parts = await remoteRows(remote, local, `SELECT content[i * ${PART_BYTES} + 1 : (i + 1) * ${PART_BYTES}] AS part `
      + `FROM read_blob(${path}), range(0, CAST(ceil(size / ${PART_BYTES}) AS BIGINT)) AS r(i) ORDER BY i`);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.part.length, 0));
    let at = 0;
    for (const { part } of parts) { out.set(part, at); at += part.length; }
    return out;
  } finally {
    await remoteRows(remote, local, `COPY (SELECT 1 AS emptied WHERE false) TO ${path} (${options})`).catch(() => {});
    await remoteRows(remote, local, `DROP TABLE IF EXISTS temp.main.${TABLE}`).catch(() => {});
  }
}
