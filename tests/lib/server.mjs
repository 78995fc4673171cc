// tests/lib/server.mjs: start a real ./mdserver on 127.0.0.1 with a fresh data
// directory, create tokens with `./mdserver token create`, stop it by PID.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, rmSync, readFileSync, readdirSync, mkdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const MDSERVER = resolve(ROOT, process.env.MDSERVER ?? './mdserver');
// A binary elsewhere than the repo root (the ASan build) has no ui/ beside it.
const uiArgs = (bin) => (bin === resolve(ROOT, 'mdserver') ? [] : ['--ui-dir', resolve(ROOT, 'build/ui')]);
// Every server's stderr is kept here (sanitizer reports, duckling messages).
const LOG_DIR = resolve(ROOT, 'build/test-logs');
mkdirSync(LOG_DIR, { recursive: true });

export function newDataDir(tag = 'md') {
  return mkdtempSync(join(tmpdir(), `mdtest-${tag}-`));
}

/**
 * A new token for `user` (created, in `org`, if new) by `mdserver token create`.
 * kind: 'rw' | 'read-only' | 'read-scaling'; expiresIn: a duration such as '30d'.
 */
export function createToken(dataDir, user, { readOnly = false, kind, org, name, expiresIn } = {}) {
  const args = ['token', 'create', '--data-dir', dataDir, '--user', user];
  if (readOnly) args.push('--read-only');
  if (kind) args.push('--kind', kind);
  if (org) args.push('--org', org);
  if (name) args.push('--name', name);
  if (expiresIn) args.push('--expires-in', expiresIn);
  return execFileSync(MDSERVER, args, { encoding: 'utf8' }).trim();
}

/** GET url (http or https, trusting `ca` if given); resolves to {status, body}. */
export function httpGet(url, { ca } = {}) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

/**
 * Start a server (port 0: a free one); resolves once it printed its URL and
 * /healthz says ok.  `ca`: the PEM certificate to trust when the server
 * serves TLS (--tls-cert).  `bin`: another build of mdserver (default: MDSERVER).
 */
export async function startServer({ dataDir = newDataDir(), port: listenPort = 0, args = [], ca, bin = MDSERVER } = {}) {
  const proc = spawn(bin, ['serve', '--port', String(listenPort), '--data-dir', dataDir, ...uiArgs(bin), ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
    appendFileSync(`${LOG_DIR}/servers.log`, d);
  });
  const { scheme, port } = await new Promise((res, rej) => {
    const onData = (d) => {
      stdout += d;
      const m = stdout.match(/listening on (https?):\/\/127\.0\.0\.1:(\d+)/);
      if (m) { proc.stdout.off('data', onData); res({ scheme: m[1], port: Number(m[2]) }); }
    };
    proc.stdout.on('data', onData);
    proc.on('exit', (code) => rej(new Error(`mdserver exited with ${code} before listening:\n${stderr}`)));
  });
  proc.stdout.on('data', (d) => { stdout += d; });
  const server = {
    proc, port, dataDir,
    url: `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    http: `${scheme}://127.0.0.1:${port}`,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    /** PIDs of this server's child processes (its ducklings). */
    children() {
      const pids = [];
      for (const task of readdirSync(`/proc/${proc.pid}/task`)) {
        try {
          const c = readFileSync(`/proc/${proc.pid}/task/${task}/children`, 'utf8').trim();
          if (c) pids.push(...c.split(/\s+/).map(Number));
        } catch { /* thread ended */ }
      }
      return pids;
    },
    /** Stop with SIGTERM and wait; resolves to the exit code. */
    async stop({ removeData = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((res) => proc.once('exit', (code, sig) => res(code ?? sig)));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
        const code = await done;
        clearTimeout(timer);
        if (removeData) rmSync(dataDir, { recursive: true, force: true });
        return code;
      }
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
      return proc.exitCode;
    },
  };
  for (let i = 0; i < 100; i++) {
    try {
      const r = await httpGet(`${server.http}/healthz`, { ca });
      if (r.status === 200) return server;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('mdserver never became healthy');
}
