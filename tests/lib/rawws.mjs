// tests/lib/rawws.mjs: a WebSocket spoken by hand over a TCP socket, for the
// hardening tests: it can say what no well-behaved client says (a frame
// whose header declares more than it sends, a handshake that never ends),
// from any loopback address (127.0.0.0/8 is all this machine's).
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { decodeFrame } from '../../build/ui/js/wire.js';

/** Open a TCP connection from `localAddress`; resolves once connected. */
export function tcpConnect(port, { localAddress = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress });
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other side (or errors). */
export function closed(sock) {
  return new Promise((resolve) => {
    if (sock.destroyed || sock.readableEnded) { resolve(); return; }
    sock.once('close', resolve);
  });
}

/** The header of one client frame (masked, as RFC 6455 requires). */
export function frameHeader(opcode, length, { fin = true, mask = randomBytes(4) } = {}) {
  let head;
  if (length < 126) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length]);
  } else if (length < 65536) {
    head = Buffer.alloc(4);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([head, mask]);
}

/** One whole client frame carrying `payload`. */
export function frame(opcode, payload, opts = {}) {
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([frameHeader(opcode, body.length, { ...opts, mask }), body]);
}

/**
 * A WebSocket to /ws, by hand.  Resolves to {sock, status, frames(), next()}
 * once the server answered the upgrade (status 101, or another status when
 * it refused).  frames: the server's frames so far, decoded as protocol
 * frames where they are binary.
 */
export async function rawWebSocket(port, { localAddress, origin } = {}) {
  const sock = await tcpConnect(port, { localAddress });
  const key = randomBytes(16).toString('base64');
  sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
             `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
             (origin ? `Origin: ${origin}\r\n` : '') + '\r\n');
  let buf = Buffer.alloc(0);
  const got = [];
  const waiters = [];
  let status = null;
  let head = '';
  const parse = () => {
    while (buf.length >= 2) {
      const op = buf[0] & 0x0f;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + len) return;
      const payload = new Uint8Array(buf.subarray(off, off + len));
      buf = buf.subarray(off + len);
      let f = { opcode: op, payload };
      if (op === 2) { try { f = { opcode: op, ...decodeFrame(payload) }; } catch { /* keep raw */ } }
      const w = waiters.shift();
      if (w) w(f); else got.push(f);
    }
  };
  await new Promise((resolve, reject) => {
    const onData = (d) => {
      if (status === null) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = Number(head.split(' ')[1]);
        buf = Buffer.from(head.slice(end + 4), 'latin1');
        resolve();
        parse();
        return;
      }
      buf = Buffer.concat([buf, d]);
      parse();
    };
    sock.on('data', onData);
    sock.once('close', () => {
      if (status === null) reject(new Error('closed before the upgrade was answered'));
      for (const w of waiters.splice(0)) w(null);
    });
  });
  return {
    sock, status, head,
    frames: got,
    /** The next frame from the server, or null if the socket closes first. */
    next(timeoutMs = 15000) {
      if (got.length) return Promise.resolve(got.shift());
      if (sock.destroyed) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
        waiters.push((f) => { clearTimeout(t); resolve(f); });
      });
    },
    closed: closed(sock),
  };
}

/** Resident memory of a process, in bytes. */
export async function rssBytes(pid) {
  const { readFileSync } = await import('node:fs');
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}
