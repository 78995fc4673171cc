// Tests of the build's own guards: the pinned emscripten version and the
// make targets the README promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lib/server.mjs';

test('emsdk.lock: the installed emscripten is the pinned one', () => {
  const pinned = readFileSync(join(ROOT, 'emsdk.lock'), 'utf8').match(/^emscripten=(\S+)$/m)[1];
  assert.equal(pinned, '3.1.6');
  const r = spawnSync(join(ROOT, 'scripts/check-emsdk.sh'), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('emsdk.lock: another emscripten version is refused with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fake-emcc-'));
  try {
    const fake = join(dir, 'emcc');
    writeFileSync(fake, '#!/bin/sh\necho "emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.7 ()"\n');
    chmodSync(fake, 0o755);
    const r = spawnSync(join(ROOT, 'scripts/check-emsdk.sh'), {
      encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /emscripten 3\.1\.6 is required \(emsdk\.lock\) but emcc reports '3\.1\.7'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('make help lists the targets the README names', () => {
  const r = spawnSync('make', ['-s', 'help'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const t of ['deps', 'all', 'run', 'test', 'bench', 'asan', 'fuzz', 'clean', 'help']) {
    assert.match(r.stdout, new RegExp(`^${t}\\s`, 'm'), t);
  }
});

test('.gitignore keeps build outputs and downloads out of git', () => {
  const r = spawnSync('git', ['check-ignore', 'build/duckdb/libduckdb.so', 'node_modules/ws/index.js', 'mdserver',
    'mdserver-data/meta.sqlite3'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.stdout.trim().split('\n').length, 4, r.stdout);
});
