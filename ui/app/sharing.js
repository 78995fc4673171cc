// sharing.js: what the share dialog, "Shared with me" and the secrets page
// send and read.  SQL is built here by small pure functions (identifiers and
// literals quoted by localdb.js) and run on the server by the session, as
// any SQL the user could type; the page knows no other way in.

import { ident, literal } from '/js/localdb.js';
import { exclusive, session } from './store.js';

export const ACCESS = ['ORGANIZATION', 'RESTRICTED', 'UNRESTRICTED'];
export const VISIBILITY = ['DISCOVERABLE', 'HIDDEN'];
export const UPDATE = ['MANUAL', 'AUTOMATIC'];
export const SECRET_TYPES = ['s3', 'gcs', 'r2', 'azure', 'huggingface', 'http'];
// The parameters the secrets page offers per type (any other can be typed in SQL).
export const SECRET_FIELDS = {
  s3: ['KEY_ID', 'SECRET', 'REGION', 'ENDPOINT', 'SESSION_TOKEN', 'URL_STYLE', 'SCOPE'],
  gcs: ['KEY_ID', 'SECRET', 'SCOPE'],
  r2: ['KEY_ID', 'SECRET', 'ACCOUNT_ID', 'SCOPE'],
  azure: ['CONNECTION_STRING', 'ACCOUNT_NAME', 'SCOPE'],
  huggingface: ['TOKEN', 'SCOPE'],
  http: ['BEARER_TOKEN', 'SCOPE'],
};

/** CREATE [OR REPLACE] SHARE name FROM db (ACCESS .., VISIBILITY .., UPDATE ..). */
export function createShareSql({ name, db, access, visibility, update, replace = false }) {
  const opts = [`ACCESS ${pick(ACCESS, access)}`, `VISIBILITY ${pick(VISIBILITY, visibility)}`,
    `UPDATE ${pick(UPDATE, update)}`];
  return `CREATE ${replace ? 'OR REPLACE ' : ''}SHARE ${ident(name)} FROM ${ident(db)} (${opts.join(', ')})`;
}

function pick(allowed, word) {
  if (!allowed.includes(word)) throw new Error(`${word} is not one of ${allowed.join(', ')}`);
  return word;
}

export const dropShareSql = (name) => `DROP SHARE ${ident(name)}`;
export const updateShareSql = (name) => `UPDATE SHARE ${ident(name)}`;
export const grantSql = (share, users, revoke = false) =>
  `${revoke ? 'REVOKE' : 'GRANT'} READ ON SHARE ${ident(share)} ${revoke ? 'FROM' : 'TO'} ${users.map(ident).join(', ')}`;
export const attachShareSql = (url, alias) => `ATTACH ${literal(url)}${alias ? ` AS ${ident(alias)}` : ''}`;

/** CREATE [OR REPLACE] SECRET name IN MOTHERDUCK (TYPE t, KEY 'value', ...): every value a literal. */
export function createSecretSql({ name, type, fields, replace = false }) {
  const params = [`TYPE ${pick(SECRET_TYPES, type)}`];
  for (const [k, v] of fields) {
    if (!/^[A-Z_]+$/.test(k)) throw new Error(`${k} is not a parameter name`);
    if (v !== '') params.push(`${k} ${literal(v)}`);
  }
  return `CREATE ${replace ? 'OR REPLACE ' : ''}SECRET ${ident(name)} IN MOTHERDUCK (${params.join(', ')})`;
}

export const dropSecretSql = (name) => `DROP SECRET ${ident(name)} FROM MOTHERDUCK`;

/** Run server SQL for the page (queued with the cells); resolves to the last result's rows. */
export async function serverRows(sql) {
  const out = await exclusive(() => session.peek().run(sql, {}, { keep: 'none' }));
  if (out.error) throw Object.assign(new Error(out.error.message), { code: out.error.code });
  return out.results.at(-1)?.rows ?? [];
}

export const ownedShares = (db) => serverRows('SELECT name, url, access, visibility, "update", '
  + "CAST(created_ts AS VARCHAR) AS created FROM md_information_schema.owned_shares "
  + `WHERE source_db_name = ${literal(db)} ORDER BY name`);

export const grantsOf = (share) => serverRows(`SHOW GRANTS ON SHARE ${ident(share)}`);

export const sharedWithMe = () => serverRows('SELECT name, url, owner, source_db_name, access, "update" '
  + 'FROM md_information_schema.shared_with_me ORDER BY owner, name');

export const secretsList = () => serverRows('SELECT name, type, scope, active, CAST(created_at AS VARCHAR) AS created, '
  + 'secret_string FROM md_secrets() ORDER BY name');
