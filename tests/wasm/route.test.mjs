// route.test.mjs: the catalog cache, name resolution and routing through
// ui/js/engine.js: a page session (remote my_db current, local memory),
// DuckDB's rules for t / x.t / d.s.t, USE, shadowing, the database-or-schema
// ambiguity, MIXED refusals, the routing defaults, dry runs, state save and
// restore, and errors at the boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MdError } from '../../build/ui/js/errors.js';
import { LOCAL_CATALOG, REMOTE_CATALOG, newEngine } from './engine_module.mjs';

async function session() {
  const engine = await newEngine();
  engine.setCatalog('local', LOCAL_CATALOG);
  engine.setCatalog('remote', JSON.stringify(REMOTE_CATALOG)); // text works too
  return engine;
}

/** The route of the last statement of sql and its first relation. */
function routeOf(engine, sql, opts) {
  const plan = engine.route(sql, opts);
  const st = plan.statements.at(-1);
  return { plan, st, rel: st.relations[0] };
}

function resolved(rel) {
  return `${rel.site} ${rel.resolution} ${rel.database}.${rel.schema}.${rel.table}${rel.found ? '' : ' (not found)'}`;
}

test('a new session: remote my_db current, local memory', async () => {
  const engine = await newEngine();
  assert.deepEqual(engine.state(), {
    active: 'remote', local: { database: 'memory', schema: 'main' },
    remote: { database: 'my_db', schema: 'main' }, transaction: null,
  });
  // before any CATALOG message both session databases are known
  assert.equal(routeOf(engine, 'FROM memory.main.t').st.route, 'local');
  assert.equal(routeOf(engine, 'FROM t').st.route, 'remote');
  assert.deepEqual(engine.catalog().databases.map((d) => [d.name, d.site]), [['memory', 'local'], ['my_db', 'remote']]);
  engine.close();
  assert.throws(() => engine.state(), /closed/);
});

test('name resolution: current database, shadowing, fallback to the other site', async () => {
  const engine = await session();
  assert.equal(resolved(routeOf(engine, 'FROM orders').rel), 'remote current my_db.main.orders');
  assert.equal(resolved(routeOf(engine, 'FROM DUAL').rel), 'remote current my_db.main.dual');
  assert.equal(resolved(routeOf(engine, 'FROM lt').rel), 'local fallback memory.main.lt');
  assert.equal(resolved(routeOf(engine, 'FROM missing').rel), 'remote default my_db.main.missing (not found)');
  assert.equal(resolved(routeOf(engine, 'FROM localdb.x').rel), 'local qualified localdb.main.x');
  assert.equal(resolved(routeOf(engine, 'FROM staging.raw').rel), 'remote current my_db.staging.raw');
  assert.equal(resolved(routeOf(engine, 'FROM "MEMORY".main."LT"').rel), 'local qualified memory.main.lt');
  assert.equal(routeOf(engine, 'FROM brand_new.main.t').rel.resolution, 'unknown_database');
  assert.equal(routeOf(engine, 'FROM brand_new.main.t').st.route, 'remote');
});

test('schema vs database: x.t is the database x unless the current database has a schema x', async () => {
  const engine = await session();
  const { st } = routeOf(engine, 'SELECT * FROM other_db.t2');
  assert.equal(st.route, 'error');
  assert.equal(st.error.code, 'SQL_ERROR');
  assert.match(st.error.message, /ambiguous reference to database or schema "other_db": write other_db\.main\.t2 .* or my_db\.other_db\.t2/);
  assert.equal(st.error.position, 'SELECT * FROM '.length);
  assert.equal(resolved(routeOf(engine, 'FROM other_db.main.t2').rel), 'remote qualified other_db.main.t2');
  engine.route('USE memory'); // memory has no schema other_db: the database wins
  assert.equal(resolved(routeOf(engine, 'FROM other_db.t2').rel), 'remote qualified other_db.main.t2');
});

test('USE switches the current database, schema and site; the engine tracks it', async () => {
  const engine = await session();
  const plan = engine.route('USE memory; FROM dual; USE my_db.staging; FROM raw');
  assert.deepEqual(plan.statements.map((s) => s.route), ['local', 'local', 'remote', 'remote']);
  assert.deepEqual(plan.statements[0].use, { database: 'memory', schema: 'main', site: 'local' });
  assert.equal(resolved(plan.statements[1].relations[0]), 'local current memory.main.dual');
  assert.equal(resolved(plan.statements[3].relations[0]), 'remote current my_db.staging.raw');
  assert.deepEqual(engine.state().remote, { database: 'my_db', schema: 'staging' });
  engine.route('USE memory');
  assert.equal(routeOf(engine, 'SELECT 1').st.route, 'local');
  assert.equal(resolved(routeOf(engine, 'FROM dual').rel), 'local current memory.main.dual');
});

test('statements reading both sites are HYBRID; other ones are refused with both sides named', async () => {
  const engine = await session();
  assert.equal(routeOf(engine, 'SELECT * FROM lt JOIN orders USING (id)').st.route, 'hybrid');
  assert.equal(routeOf(engine, 'INSERT INTO orders FROM memory.lt').st.route, 'hybrid');
  const sql = 'DELETE FROM orders USING lt WHERE orders.id = lt.id';
  const { plan, st } = routeOf(engine, sql);
  assert.equal(st.route, 'mixed');
  assert.equal(st.error.code, 'UNSUPPORTED');
  assert.equal(st.error.message, 'DELETE cannot combine data in the browser with data on the server (only queries, '
    + 'CREATE TABLE ... AS and INSERT ... SELECT can): memory.main.lt is in the browser and my_db.main.orders is on the server');
  assert.equal(st.error.position, sql.indexOf('lt'));
  assert.deepEqual(plan.error, { ...st.error, statement: 0 });
  const many = routeOf(engine, "UPDATE orders SET id = 1 FROM 'a.csv', localdb.x, read_parquet('https://h/x.parquet')").st;
  assert.match(many.error.message, /'a\.csv' and localdb\.main\.x are in the browser and my_db\.main\.orders and read_parquet\('https:\/\/h\/x\.parquet'\) are on the server/);
});

test('routing defaults: files, URLs, md_run, no relations, DDL, secrets, ATTACH', async () => {
  const engine = await session();
  const cases = [
    ['SELECT 1', 'remote'],
    ["FROM 'dropped.csv'", 'local'],
    ["FROM read_csv('https://example.com/x.csv')", 'remote'],
    ["FROM read_csv('http://localhost:8000/x.csv')", 'local'],
    ["FROM 's3://bucket/x.parquet'", 'remote'],
    ["FROM read_csv('x.csv', md_run => 'remote')", 'remote'],
    ["FROM read_csv('s3://b/x.csv', md_run => 'local')", 'local'],
    ['FROM range(5)', 'remote'],
    ['FROM range(5), memory.lt', 'local'],
    ['CREATE TABLE made_here AS SELECT 1', 'remote'],
    ['CREATE TABLE memory.made_there AS SELECT 1', 'local'],
    ["CREATE SECRET (TYPE s3, KEY_ID 'k')", 'remote'],
    ["CREATE SECRET k IN MD (TYPE s3, KEY_ID 'k')", 'server'],
    ['CREATE DATABASE d2', 'server'],
    ["ATTACH 'md:d2'", 'server'],
    ["ATTACH 'local.duckdb' AS loc", 'local'],
    ['DETACH loc', 'local'],
    ['BEGIN', 'remote'],
    ['COMMIT', 'remote'],
  ];
  for (const [sql, route] of cases) assert.equal(routeOf(engine, sql).st.route, route, sql);
  // what the routed statements created is now in the cache
  assert.equal(resolved(routeOf(engine, 'FROM made_here').rel), 'remote current my_db.main.made_here');
  assert.equal(resolved(routeOf(engine, 'FROM d2.main.t').rel), 'remote qualified d2.main.t (not found)');
});

test('a dry run routes with the effects of earlier statements but keeps nothing', async () => {
  const engine = await session();
  const before = engine.state();
  const plan = engine.route("USE memory; ATTACH 'f.db' AS f; CREATE TABLE f.t AS SELECT 1; FROM f.t", { dryRun: true });
  assert.deepEqual(plan.statements.map((s) => s.route), ['local', 'local', 'local', 'local']);
  assert.equal(plan.statements[3].relations[0].found, true);
  assert.equal(plan.state.active, 'local');
  assert.deepEqual(engine.state(), before);
  assert.equal(routeOf(engine, 'FROM f.t').rel.resolution, 'unknown_database');
});

test('the page can save and restore the state after a failed statement', async () => {
  const engine = await session();
  const saved = engine.state();
  engine.route('USE memory; BEGIN');
  assert.equal(engine.state().transaction, 'local');
  const inTxn = routeOf(engine, 'FROM orders').st;
  assert.equal(inTxn.route, 'error');
  assert.match(inTxn.error.message, /a transaction is open in the browser/);
  engine.setState(saved);
  assert.deepEqual(engine.state(), saved);
  assert.equal(routeOf(engine, 'FROM orders').st.route, 'remote');
  assert.throws(() => engine.setState({ active: 'mars' }), (err) => err instanceof MdError
    && err.code === 'INVALID_ARGUMENT' && /"active" must be/.test(err.message));
});

test('bad catalog JSON throws and leaves the cache as it was', async () => {
  const engine = await session();
  assert.throws(() => engine.setCatalog('remote', '{"databases": [{"name": "a"}, {"name": "A"}]}'),
    (err) => err instanceof MdError && err.code === 'ALREADY_EXISTS' && /databases\[1\] repeats/.test(err.message));
  assert.throws(() => engine.setCatalog('remote', { databases: [{ name: 'a', schemas: [{ tables: [] }] }] }),
    (err) => err.code === 'INVALID_ARGUMENT' && /databases\[0\]\.schemas\[0\] needs "name"/.test(err.message));
  assert.throws(() => engine.setCatalog('remote', 'nope'), /not valid JSON/);
  assert.throws(() => engine.setCatalog('elsewhere', {}), TypeError);
  assert.equal(resolved(routeOf(engine, 'FROM orders').rel), 'remote current my_db.main.orders');
  const remote = engine.catalog().databases.filter((d) => d.site === 'remote');
  assert.deepEqual(remote.map((d) => d.name), ['my_db', 'other_db']);
  assert.equal(remote[0].schemas[0].tables[0].rows, 100000);
});

test('a text that cannot be lexed throws with its position and changes nothing', async () => {
  const engine = await session();
  const sql = "USE memory; SELECT 'ünterminated";
  assert.throws(() => engine.route(sql), (err) => err instanceof MdError && err.code === 'SQL_ERROR'
    && err.position === sql.indexOf("'") && /unterminated quoted string/.test(err.message));
  assert.equal(engine.state().active, 'remote');
});

test('engines are independent; options name the session databases', async () => {
  const a = await newEngine({ remoteDatabase: 'analytics', localDatabase: 'scratch' });
  const b = await newEngine();
  a.route('USE scratch');
  assert.deepEqual(a.state().local, { database: 'scratch', schema: 'main' });
  assert.equal(a.state().active, 'local');
  assert.equal(b.state().active, 'remote');
  assert.equal(routeOf(a, 'FROM analytics.main.t').st.route, 'remote');
  await assert.rejects(newEngine({ remoteDatabase: '' }), (err) => err.code === 'INVALID_ARGUMENT');
});
