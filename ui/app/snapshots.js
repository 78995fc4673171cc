// snapshots.js: a server database's snapshots for the catalog tree, read
// when the user opens them (md_snapshots(), newest first, at most
// SNAPSHOT_LIST), and the time-travel ATTACH a click puts in a new cell.

import { ident, literal } from '/js/localdb.js';
import { exclusive, session } from './store.js';

export const SNAPSHOT_LIST = 50;

/** [{id, name, created}] of database `db`, newest first. */
export async function snapshotsOf(db) {
  const out = await exclusive(() => session.peek().run(
    `SELECT snapshot_id::BIGINT AS id, name, created_at::VARCHAR AS created FROM md_snapshots(${literal(db)}) `
      + `ORDER BY snapshot_id DESC LIMIT ${SNAPSHOT_LIST}`, {}, { keep: 'none' },
  ));
  const r = out.results.at(-1);
  return (r?.rows ?? []).map((row) => ({ id: Number(row.id), name: row.name, created: row.created }));
}

/** The SQL that attaches database `db` as it was at snapshot `id` (read-only). */
export const attachSnapshotSql = (db, id) => `ATTACH ${literal(`md:${db}`)} AS ${ident(`${db}_at_${id}`)} (SNAPSHOT ${id});`;
