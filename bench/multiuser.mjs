// bench/multiuser.mjs: the sharing and read-scaling benchmarks of `make
// bench` (run by bench/run.sh; docs/benchmarks.md says what each
// measures).  A ./mdserver of its own, clients over the WebSocket protocol
// (tests/lib/mdclient.mjs), no browser.
//
//   share_follow   a committed INSERT by the owner of an AUTOMATIC share to
//                  the moment a reader who attached the share sees it (the
//                  reader polls with its next statement); median of RUNS;
//                  peer: the budget, 1000 ms (the owner's own
//                  read-after-commit is printed beside).  Target <= 1.
//   read_scaling   16 clients with a read_scaling token, each running the
//                  same aggregate over a 2M-row table in a loop: the p50
//                  of their queries while the user's read/write duckling
//                  runs a long CREATE TABLE AS (ours), against the p50 with
//                  nothing else running (peer).  Target <= 1.5.
//
// Environment: MDBENCH_RUNS [7], MDBENCH_SCALE_ROWS [2000000],
// MDBENCH_SCALE_CLIENTS [16], MDBENCH_READ_REPLICAS [2].
import { startServer, createToken } from '../tests/lib/server.mjs';
import { MdClient } from '../tests/lib/mdclient.mjs';
import { median, report as printReport, say } from './lib.mjs';

const RUNS = Number(process.env.MDBENCH_RUNS ?? 7);
const ROWS = Number(process.env.MDBENCH_SCALE_ROWS ?? 2000000);
const CLIENTS = Number(process.env.MDBENCH_SCALE_CLIENTS ?? 16);
const REPLICAS = Number(process.env.MDBENCH_READ_REPLICAS ?? 2);
const report = printReport;
const one = async (c, sql) => Object.values((await c.rows(sql))[0])[0];

async function shareFollow(srv) {
  const owner = await MdClient.connect(srv.url, createToken(srv.dataDir, 'owner'));
  const reader = await MdClient.connect(srv.url, createToken(srv.dataDir, 'reader'));
  try {
    await owner.rows(`CREATE DATABASE shared_db; CREATE TABLE shared_db.events AS SELECT range AS id FROM range(${ROWS})`);
    const [{ share_url: url }] = await owner.rows('CREATE SHARE events FROM shared_db (UPDATE AUTOMATIC)');
    await reader.rows(`ATTACH '${url}' AS events`);
    let n = Number(await one(reader, 'SELECT count(*) FROM events.events'));
    const ours = [], own = [];
    for (let k = 0; k < RUNS; k++) {
      await owner.rows(`INSERT INTO shared_db.events VALUES (${-1 - k})`);
      n++;
      const o0 = performance.now();
      await one(owner, 'SELECT count(*) FROM shared_db.events');
      own.push(performance.now() - o0);
      const t0 = performance.now();
      while (Number(await one(reader, 'SELECT count(*) FROM events.events')) !== n) {
        if (performance.now() - t0 > 30000) throw new Error('the reader never saw the commit');
      }
      ours.push(performance.now() - t0);
    }
    say(`commit to visible at the reader: ${ours.map((x) => x.toFixed(1)).join(' ')} ms; `
      + `the owner's own read after its commit: median ${median(own).toFixed(1)} ms`);
    report({ name: 'share_follow', unit: 'ms', ours: median(ours), peer: 1000, target: 1, higherIsBetter: false,
      extra: { runs: RUNS, owner_read_ms: median(own), peer_name: 'the budget: 1000 ms' } });
  } finally {
    await owner.close();
    await reader.close();
  }
}

/** CLIENTS read_scaling clients querying for `ms`; resolves to every query's latency. */
async function readLoad(clients, ms) {
  const lat = [];
  const until = performance.now() + ms;
  await Promise.all(clients.map(async (c, i) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await c.rows(`SELECT count(*), sum(v) FROM my_db.facts WHERE g = ${i % 13}`);
      lat.push(performance.now() - t0);
    }
  }));
  return lat;
}

async function readScaling(srv) {
  const rwToken = createToken(srv.dataDir, 'scaler');
  const rsToken = createToken(srv.dataDir, 'scaler', { kind: 'read-scaling' });
  const writer = await MdClient.connect(srv.url, rwToken);
  const clients = [];
  try {
    await writer.rows(`CREATE TABLE my_db.facts AS SELECT range AS id, range % 13 AS g, (range % 1000)::DOUBLE AS v FROM range(${ROWS})`);
    for (let i = 0; i < CLIENTS; i++) clients.push(await MdClient.connect(srv.url, rsToken));
    await readLoad(clients, 1500); // the replicas start and warm up
    const idle = await readLoad(clients, 4000);
    // a long write on the read/write duckling, cancelled once measured
    const WRITE_ID = 9001;
    const write = writer.query('CREATE OR REPLACE TABLE my_db.big AS SELECT range AS i, md5(range::VARCHAR) AS h '
      + 'FROM range(1000000000)', { id: WRITE_ID });
    let writing = true;
    write.then(() => { writing = false; });
    await new Promise((r) => setTimeout(r, 500));
    const busy = await readLoad(clients, 4000);
    const stillWriting = writing;
    writer.cancel(WRITE_ID);
    await write;
    if (!stillWriting) say('note: the write ended before the busy measure did');
    const pIdle = median(idle), pBusy = median(busy);
    say(`${CLIENTS} read_scaling clients on ${REPLICAS} replicas: ${idle.length} queries idle (p50 ${pIdle.toFixed(1)} ms), `
      + `${busy.length} during the write (p50 ${pBusy.toFixed(1)} ms)`);
    report({ name: 'read_scaling', unit: 'ms', ours: pBusy, peer: pIdle, target: 1.5, higherIsBetter: false,
      extra: { clients: CLIENTS, replicas: REPLICAS, queries_idle: idle.length, queries_busy: busy.length,
        peer_name: 'the same reads with the writer idle' } });
  } finally {
    for (const c of clients) await c.close();
    await writer.close();
  }
}

const srv = await startServer({ args: ['--read-replicas', String(REPLICAS), '--max-ducklings', '16'] });
let failed = false;
try {
  say(`== share_follow (${RUNS} commits)`);
  await shareFollow(srv).catch((e) => { failed = true; report({ name: 'share_follow', unit: 'ms', ours: NaN, peer: 1000, target: 1, error: e.message }); });
  say(`== read_scaling (${CLIENTS} clients, ${ROWS} rows)`);
  await readScaling(srv).catch((e) => { failed = true; report({ name: 'read_scaling', unit: 'ms', ours: NaN, peer: NaN, target: 1.5, error: e.message }); });
} finally {
  await srv.stop({ removeData: true });
}
process.exit(failed ? 1 : 0);
