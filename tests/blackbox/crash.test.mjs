// Crash test of snapshot storage: writes run while the duckling or the whole
// server is killed with SIGKILL at random moments (at least 50 kills, bounded
// in time); after each restart every acknowledged write must be there, and
// at the end `mdserver fsck` must find the store clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, createToken, newDataDir, MDSERVER } from '../lib/server.mjs';
import { MdClient } from '../lib/mdclient.mjs';

const KILLS = Number(process.env.MD_CRASH_KILLS ?? 50);
const SEED = Number(process.env.MD_CRASH_SEED ?? Date.now() % 100000);

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`${KILLS} SIGKILLs of the duckling or the server during writes lose no acknowledged write (seed ${SEED})`,
  { timeout: 240000 }, async () => {
    const rand = random(SEED);
    const dataDir = newDataDir('crash');
    let srv = await startServer({ dataDir });
    const token = createToken(dataDir, 'crasher');
    let c = await MdClient.connect(srv.url, token);
    await c.rows('CREATE TABLE acks(i INTEGER, pad VARCHAR)');
    const acked = new Set();
    let next = 0;
    let serverKills = 0;
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // writes, sequentially, until the kill lands; only RESULT_END counts as acknowledged
        let stop = false;
        const conn = c;
        const writer = (async () => {
          while (!stop) {
            const n = next++;
            const big = rand() < 0.1; // now and then a bigger write (more blocks per snapshot)
            const sql = big
              ? `INSERT INTO acks SELECT ${n}, repeat('x', 100) FROM range(20000)`
              : `INSERT INTO acks VALUES (${n}, 'one')`;
            // a killed server never answers: the socket's close ends the wait
            const r = await Promise.race([conn.query(sql, { decode: false }), conn.closed.then(() => ({ error: 'closed' }))]);
            if (r.error) return;
            acked.add(n);
          }
        })();
        // let the new duckling start and a write land, then kill at a random moment
        const before = acked.size;
        for (let i = 0; i < 400 && acked.size === before; i++) await new Promise((res) => setTimeout(res, 5));
        await new Promise((res) => setTimeout(res, rand() * 60));
        const killServer = rand() < 0.3;
        if (killServer) {
          serverKills++;
          const ducklings = srv.children();
          srv.proc.kill('SIGKILL');
          // the ducklings notice the server is gone and stop; wait for that like a restart would
          for (const pid of ducklings) {
            for (let i = 0; i < 200; i++) {
              try { process.kill(pid, 0); } catch { break; }
              await new Promise((res) => setTimeout(res, 25));
            }
          }
        } else {
          for (const pid of srv.children()) process.kill(pid, 'SIGKILL');
        }
        stop = true;
        c.terminate();
        await writer;
        if (killServer) srv = await startServer({ dataDir });
        // the server may not have seen the duckling die yet: DUCKLING_FAILED
        // says "run the query again", which is what a client does
        let rows;
        for (let attempt = 0; ; attempt++) {
          c = await MdClient.connect(srv.url, token);
          try {
            rows = await c.rows('SELECT DISTINCT i FROM acks');
            break;
          } catch (e) {
            c.terminate();
            if (e.code !== 'DUCKLING_FAILED' || attempt >= 50) throw e;
            await new Promise((res) => setTimeout(res, 50));
          }
        }
        const present = new Set(rows.map((r) => r.i));
        const lost = [...acked].filter((n) => !present.has(n));
        assert.deepEqual(lost, [], `after kill ${kill + 1} (${killServer ? 'server' : 'duckling'}), acknowledged writes are missing`);
      }
      assert.ok(acked.size > KILLS, `${acked.size} writes acknowledged`);
      await c.close();
      await srv.stop();
      const fsck = spawnSync(MDSERVER, ['fsck', '--data-dir', dataDir], { encoding: 'utf8', timeout: 60000 });
      assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
      assert.match(fsck.stdout, /: 0 problems/);
      console.log(`${KILLS} kills (${serverKills} of the server), ${acked.size} acknowledged writes, fsck clean`);
    } finally {
      await srv.stop({ removeData: true });
    }
  });
