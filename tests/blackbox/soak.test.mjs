// Soak: a real ./mdserver under the load of a team and every pre-auth
// attacker of tests/blackbox/hardening.test.mjs at once, for about a minute
// (SOAK_SECONDS).  1,000 WebSocket connections from 40 loopback addresses,
// 200 of them running small queries in a loop as 30 users; the rest open,
// authenticate and idle.  Every query must be answered or refused with
// SERVER_BUSY within its own timeout (none hangs), the server must stay up,
// and its resident memory stays bounded (printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createToken } from '../lib/server.mjs';
import { MdClient, MSG } from '../lib/mdclient.mjs';
import { encodeFrame } from '../../build/ui/js/wire.js';
import { rawWebSocket, tcpConnect, frame, frameHeader, rssBytes } from '../lib/rawws.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 45);
const CONNECTIONS = 1000, QUERYING = 200, USERS = 30, ADDRESSES = 40, OPENING = 16;
const QUERY_TIMEOUT_MS = 30000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const addressOf = (i) => `127.0.3.${1 + (i % ADDRESSES)}`;

/** Run `body` over and over until `until`, from `n` workers; returns their results. */
function workers(n, until, body) {
  return Promise.all(Array.from({ length: n }, async (_, k) => {
    while (Date.now() < until) {
      try { await body(k); } catch { /* an attacker's socket error is expected */ }
    }
  }));
}

test(`soak: ${CONNECTIONS} connections, ${QUERYING} querying as ${USERS} users, every attacker at once, ${SECONDS} s`,
  { timeout: (SECONDS + 120) * 1000 }, async () => {
    const srv = await startServer({ args: ['--max-connections', '300', '--max-ducklings', '4', '--hello-timeout', '2000'] });
    try {
      const tokens = Array.from({ length: USERS }, (_, u) => createToken(srv.dataDir, `soak${u}`));
      const until = Date.now() + SECONDS * 1000;
      const stats = { answered: 0, busy: 0, connectBusy: 0, other: {}, hung: 0, maxRss: 0 };
      const note = (code) => { stats.other[code] = (stats.other[code] ?? 0) + 1; };

      // the server's memory, sampled all along
      const sampler = (async () => {
        while (Date.now() < until) {
          stats.maxRss = Math.max(stats.maxRss, await rssBytes(srv.proc.pid));
          await sleep(250);
        }
      })();

      // attackers, one of each kind, from their own addresses
      const deep = encodeFrame(MSG.HELLO, 0, new TextEncoder().encode(`{"protocol":1,"token":"x","j":${'['.repeat(3000)}}`));
      const attackers = [
        workers(2, until, async () => { // nested HELLO (no longer fits before HELLO: refused by size)
          const ws = await rawWebSocket(srv.port, { localAddress: '127.0.4.1' });
          ws.sock.on('error', () => {});
          ws.sock.write(frame(2, deep));
          await ws.closed;
        }),
        workers(8, until, async () => { // sockets that never say HELLO
          const ws = await rawWebSocket(srv.port, { localAddress: '127.0.4.2' });
          ws.sock.on('error', () => {});
          await ws.closed;
        }),
        workers(8, until, async () => { // HTTP handshakes that never end
          const s = await tcpConnect(srv.port, { localAddress: '127.0.4.3' });
          s.on('error', () => {});
          s.resume(); // read the server's 400, so that its close is seen
          s.write('GET / HTTP/1.1\r\nHost: x\r\n');
          await new Promise((r) => s.once('close', r));
        }),
        workers(2, until, async () => { // frames declaring 400 MB
          const ws = await rawWebSocket(srv.port, { localAddress: '127.0.4.4' });
          ws.sock.on('error', () => {});
          ws.sock.write(frameHeader(2, 400 * 1024 * 1024));
          ws.sock.write(Buffer.alloc(4096, 1));
          await ws.closed;
        }),
      ];

      // the team: 1,000 connections (opened OPENING at a time, as browsers
      // would: a storm of a thousand at once only meets the budget of
      // sockets waiting to authenticate), 200 of them querying
      const clients = [];
      let next = 0;
      const opening = Array.from({ length: OPENING }, async () => {
        for (let i = next++; i < CONNECTIONS; i = next++) {
          try {
            const c = await MdClient.connect(srv.url, tokens[i % USERS], { localAddress: addressOf(i) });
            c.ws.on('error', () => {});
            clients.push({ i, c });
          } catch (e) {
            if (e.code === 'SERVER_BUSY') stats.connectBusy++;
            else note(`connect:${e.code ?? e.message}`);
          }
        }
      });
      await Promise.all(opening);
      clients.sort((x, y) => x.i - y.i);
      const querying = clients.slice(0, QUERYING);
      await Promise.all(querying.map(async ({ i, c }) => {
        while (Date.now() < until) {
          const r = await Promise.race([c.query(`SELECT ${i} AS i, count(*) AS n FROM range(1000)`),
            sleep(QUERY_TIMEOUT_MS).then(() => 'hung')]);
          if (r === 'hung') { stats.hung++; return; }
          if (!r.error) stats.answered++;
          else if (r.error.code === 'SERVER_BUSY') stats.busy++;
          else note(r.error.code);
          if (r.error) await sleep(50 + Math.random() * 200);
        }
      }));
      await Promise.all([...attackers, sampler]);
      console.log(`soak: ${clients.length} of ${CONNECTIONS} connections admitted (${stats.connectBusy} SERVER_BUSY), `
        + `${stats.answered} queries answered, ${stats.busy} SERVER_BUSY, ${stats.hung} hung, others ${JSON.stringify(stats.other)}, `
        + `server RSS at most ${(stats.maxRss / 1048576).toFixed(0)} MB`);
      assert.equal(stats.hung, 0, 'no query hung');
      assert.deepEqual(Object.keys(stats.other).filter((k) => !k.startsWith('connect:DUCKLING')), [],
        `only answers and SERVER_BUSY: ${JSON.stringify(stats.other)}`);
      assert.ok(clients.length >= QUERYING, `${clients.length} connections admitted`);
      assert.ok(stats.answered > QUERYING, `${stats.answered} queries answered`);
      assert.ok(stats.maxRss < 512 * 1048576, `server RSS ${(stats.maxRss / 1048576).toFixed(0)} MB`);
      assert.equal(srv.proc.exitCode, null, 'the server is up');
      const h = await fetch(`${srv.http}/healthz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(h.status, 200);
      await Promise.all(clients.map(({ c }) => c.close()));
    } finally {
      await srv.stop({ removeData: true });
    }
  });
