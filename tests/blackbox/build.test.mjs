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

test('includes show the layers: scripts/check-includes.sh passes on the tree and names each include that breaks one', () => {
  const ok = spawnSync(join(ROOT, 'scripts/check-includes.sh'), [ROOT], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'includes-'));
  try {
    for (const d of ['shared', 'wasm', 'server/client', 'server/duckling']) spawnSync('mkdir', ['-p', join(dir, d)]);
    const put = (f, text) => writeFileSync(join(dir, f), text);
    put('shared/md_error.h', '');
    put('wasm/driver.h', '#include "shared/md_error.h"\n');           // allowed
    put('server/pool.h', '#include "wasm/driver.h"\n');               // allowed
    put('server/client/dual.h', '');
    put('shared/frame_io.c', '#include "md_error.h"\n#include "server/pool.h"\n');   // shared/ -> server/
    put('wasm/router.c', '#include "driver.h"\n#include "catalog.h"\n');           // a bare name not beside it
    put('server/duckling/duckling.c', '#include "server/client/dual.h"\n#include "server/nope.h"\n');
    const r = spawnSync(join(ROOT, 'scripts/check-includes.sh'), [dir], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout);
    const lines = r.stdout.trim().split('\n').sort();
    assert.deepEqual(lines.map((l) => l.split(':').slice(0, 2).join(':')), [
      'server/duckling/duckling.c:1', 'server/duckling/duckling.c:2', 'shared/frame_io.c:2', 'wasm/router.c:2',
    ]);
    assert.match(r.stdout, /shared\/ may not include "server\/pool.h"/);
    assert.match(r.stdout, /"catalog.h" is not in wasm\//);
    assert.match(r.stdout, /"server\/nope.h" does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
