// engine_module.mjs: load the built engine (build/ui/engine.mjs + engine.wasm)
// the way the Node tests must with emscripten 3.1.6 (a web/worker ES module:
// the wasm bytes are passed in, never fetched), and wrap it in ui/js/engine.js.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Engine } from '../../build/ui/js/engine.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MJS = resolve(ROOT, 'build/ui/engine.mjs');
const WASM = resolve(ROOT, 'build/ui/engine.wasm');

let factory;

/** A new Engine on a fresh instance of the module (options go to Engine.create). */
export async function newEngine(options = {}) {
  if (!existsSync(MJS) || !existsSync(WASM)) throw new Error(`${MJS} is missing: run 'make wasm'`);
  factory ??= (await import(pathToFileURL(MJS).href)).default;
  return Engine.create(factory, { ...options, moduleOptions: { wasmBinary: readFileSync(WASM) } });
}

/** The catalogs of the routing tests: a local and a remote site. */
export const LOCAL_CATALOG = {
  databases: [
    { name: 'memory', schemas: [{ name: 'main', tables: [{ name: 'lt', rows: 3 }, { name: 'dual' }] }] },
    { name: 'localdb', schemas: [{ name: 'main', tables: [{ name: 'x' }] }] },
  ],
};

export const REMOTE_CATALOG = {
  databases: [
    {
      name: 'my_db',
      schemas: [
        { name: 'main', tables: [{ name: 'orders', rows: 100000, columns: [{ name: 'id', type: 'INTEGER' }] }, { name: 'dual' }] },
        { name: 'staging', tables: [{ name: 'raw' }] },
        { name: 'other_db', tables: [{ name: 't2' }] },
      ],
    },
    { name: 'other_db', schemas: [{ name: 'main', tables: [{ name: 't2' }] }] },
  ],
};
