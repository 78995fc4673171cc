// engine.js: the client engine (C compiled to WebAssembly, wasm/exports.c) for
// JavaScript.  This is the only module that touches the engine's WASM heap:
// it copies strings in and out, owns the out-parameter slots, frees what the
// C side hands over, and turns every non-zero status into an MdError (errors.js) in
// one place (#call).
//
// Offsets: the C engine works in bytes of UTF-8; every offset this module
// returns (statement and relation start/end, token start/end, error
// position) is an index into the JavaScript string that was passed in
// (UTF-16 code units), ready for String.prototype.slice and editors.
//
// Usage (the page and the Node tests alike):
//   import createEngine from '/engine.mjs';          // build/ui/engine.mjs
//   const engine = await Engine.create(createEngine, { moduleOptions: { wasmBinary } });
//   engine.setCatalog('remote', catalogFromServer);
//   const plan = engine.route('SELECT * FROM t');     // plan.statements[i].route
//
// The JSON shapes are documented in wasm/router.h (route, classify, state)
// and wasm/catalog.h (catalog).

import { MdError, mdError } from './errors.js';

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Site numbers of wasm/catalog.h's md_site. */
export const SITE = Object.freeze({ local: 1, remote: 2 });

/**
 * A map from byte offsets of the UTF-8 encoding of `str` to indices in `str`.
 * TextEncoder writes a lone surrogate as U+FFFD (3 bytes), which the loop
 * accounts for.
 */
function byteToIndex(str, byteLength) {
  const map = new Uint32Array(byteLength + 1);
  let b = 0;
  let i = 0;
  for (const ch of str) {
    const cp = ch.codePointAt(0);
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    map.fill(i, b, b + n);
    b += n;
    i += ch.length;
  }
  map[byteLength] = str.length;
  return (off) => (off >= 0 && off <= byteLength ? map[off] : off);
}

/** One string going in: its UTF-8 bytes and a converter for offsets coming back. */
class Utf8Text {
  constructor(str) {
    if (typeof str !== 'string') throw new TypeError('expected a string');
    this.str = str;
    this.bytes = utf8.encode(str);
    this.toIndex = null;
  }

  index(off) {
    if (!this.toIndex) this.toIndex = byteToIndex(this.str, this.bytes.length);
    return this.toIndex(off);
  }
}

function convertSpans(obj, text) {
  if (typeof obj.start === 'number') obj.start = text.index(obj.start);
  if (typeof obj.end === 'number') obj.end = text.index(obj.end);
}

function convertError(err, text) {
  if (err && typeof err.position === 'number') err.position = text.index(err.position);
}

/** Offsets of a route or classify result, in place. */
function convertPlan(plan, text) {
  for (const st of plan.statements) {
    convertSpans(st, text);
    for (const rel of st.relations) convertSpans(rel, text);
    convertError(st.error, text);
  }
  convertError(plan.error, text);
  return plan;
}

export class Engine {
  #mod;
  #driver = 0;   // the dual-execution driver (wasm/driver.h)
  #handle = 0;   // its router: the handle of the other exports
  #script = null; // the running script's text, for positions coming back

  constructor(mod) {
    this.#mod = mod;
  }

  /**
   * Instantiate the WASM module and create the engine of a session: the
   * dual-execution driver and its router.
   * @param {(opts: object) => Promise<object>} createEngine the default export of build/ui/engine.mjs
   * @param {{moduleOptions?: object, localDatabase?: string, remoteDatabase?: string, localCache?: boolean}} [options]
   *   moduleOptions go to createEngine (in Node: {wasmBinary}); the database
   *   names default to "memory" (local) and "my_db" (remote); localCache: the
   *   host keeps bridges into the local site in md_cache (the page).
   */
  static async create(createEngine, { moduleOptions = {}, localDatabase, remoteDatabase, localCache = false } = {}) {
    const mod = await createEngine(moduleOptions);
    const engine = new Engine(mod);
    const opts = {};
    if (localDatabase !== undefined) opts.local_database = localDatabase;
    if (remoteDatabase !== undefined) opts.remote_database = remoteDatabase;
    if (localCache) opts.local_cache = true;
    const options = Object.keys(opts).length ? JSON.stringify(opts) : '';
    engine.#driver = engine.#call('md_wasm_driver_create', [new Utf8Text(options)], 'pointer');
    engine.#handle = mod._md_wasm_driver_engine(engine.#driver);
    return engine;
  }

  /**
   * Call an export.  `args` are numbers (passed as is), the engine handle
   * (`this`) or Utf8Text (passed as pointer + byte length).  Then come the out
   * slot for the result (unless `result` is null) and the error slot.
   * result: 'json' (parse and free the returned text), 'text' (free it and
   * return it unparsed), 'pointer', or null.
   * A non-zero status becomes an MdError, with a position converted
   * through `text` when given.
   */
  #call(name, args, result, text = null) {
    const mod = this.#mod;
    const fn = mod[`_${name}`];
    if (typeof fn !== 'function') throw mdError('INTERNAL', `engine module has no export ${name}`);
    const allocs = [];
    const alloc = (n) => {
      const p = mod._md_wasm_alloc(n || 1);
      if (!p) throw mdError('OUT_OF_MEMORY', `cannot allocate ${n} bytes in the engine`);
      allocs.push(p);
      return p;
    };
    try {
      const argv = [];
      for (const a of args) {
        if (a === this) {
          if (!this.#handle) throw mdError('INVALID_ARGUMENT', 'the engine is closed');
          argv.push(this.#handle);
        } else if (a instanceof Utf8Text) {
          const p = alloc(a.bytes.length);
          mod.HEAPU8.set(a.bytes, p);
          argv.push(p, a.bytes.length);
        } else {
          argv.push(a);
        }
      }
      const slots = alloc(8);
      mod.HEAPU32[slots >> 2] = 0;
      mod.HEAPU32[(slots >> 2) + 1] = 0;
      if (result) argv.push(slots);
      argv.push(slots + 4);
      const status = fn(...argv);
      const out = mod.HEAPU32[slots >> 2];
      const errPtr = mod.HEAPU32[(slots >> 2) + 1];
      if (status !== 0) {
        let detail = { code: 'INTERNAL', message: `${name} failed with status ${status}` };
        if (errPtr) {
          detail = JSON.parse(this.#takeString(errPtr));
          if (text) convertError(detail, text);
        }
        throw new MdError(detail);
      }
      if (result === 'json') return JSON.parse(this.#takeString(out));
      if (result === 'text') return this.#takeString(out);
      return out;
    } finally {
      for (const p of allocs) mod._md_wasm_free(p);
    }
  }

  /** Read a NUL-terminated UTF-8 string the engine allocated, and free it. */
  #takeString(ptr) {
    const heap = this.#mod.HEAPU8;
    const end = heap.indexOf(0, ptr);
    const s = utf8d.decode(heap.subarray(ptr, end));
    this.#mod._md_wasm_free(ptr);
    return s;
  }

  /**
   * Replace one site's part of the catalog cache.
   * @param {'local'|'remote'} site
   * @param {object|string} catalog CATALOG JSON (wasm/catalog.h), as an object or text
   */
  setCatalog(site, catalog) {
    const num = SITE[site];
    if (!num) throw new TypeError(`site must be 'local' or 'remote', not ${site}`);
    const json = typeof catalog === 'string' ? catalog : JSON.stringify(catalog);
    this.#call('md_wasm_catalog_set', [this, num, new Utf8Text(json)], null);
  }

  /** Both sites of the catalog cache: {databases: [{name, site, schemas: [...]}, ...]}. */
  catalog() {
    return this.#call('md_wasm_catalog_get', [this], 'json');
  }

  /**
   * Classify and route every statement of `sql` (wasm/router.h).  Keeps the
   * USE, transaction and catalog changes of the routed statements unless
   * dryRun.  Statements that cannot run have route 'mixed' or 'error' and an
   * `error`; plan.error is the first of them.  Throws MdError when the
   * text cannot be lexed (an unterminated string, quote or comment).
   * @param {string} sql
   * @param {{dryRun?: boolean}} [options]
   */
  route(sql, { dryRun = false } = {}) {
    const text = new Utf8Text(sql);
    return convertPlan(this.#call('md_wasm_route', [this, text, dryRun ? 1 : 0], 'json', text), text);
  }

  /** Statements of `sql` with kinds and relations, without the catalog. */
  classify(sql) {
    const text = new Utf8Text(sql);
    return convertPlan(this.#call('md_wasm_classify', [text], 'json', text), text);
  }

  /**
   * The tokens of `sql` ({type, start, end, text[, keyword, reserved]}) and
   * its statement spans ({start, end}).
   * @param {string} sql
   * @param {{comments?: boolean}} [options]
   */
  tokens(sql, { comments = false } = {}) {
    const text = new Utf8Text(sql);
    const out = this.#call('md_wasm_tokens', [text, comments ? 1 : 0], 'json', text);
    for (const t of out.tokens) {
      convertSpans(t, text);
      t.text = sql.slice(t.start, t.end);
    }
    for (const s of out.statements) convertSpans(s, text);
    return out;
  }

  /** The session state: {active, local: {database, schema}, remote: {...}, transaction}. */
  state() {
    return this.#call('md_wasm_state_get', [this], 'json');
  }

  /** Set (part of) the session state, e.g. to put back a saved one after a failed statement. */
  setState(state) {
    this.#call('md_wasm_state_set', [this, new Utf8Text(JSON.stringify(state))], null);
  }

  /**
   * Dual execution (wasm/driver.h): start running `sql`; then call next()
   * with how each action ended until it answers {kind: 'done'} or
   * {kind: 'fail'}.
   */
  begin(sql) {
    this.#script = new Utf8Text(sql);
    this.#call('md_wasm_driver_begin', [this.#driver, this.#script], null);
  }

  /**
   * The next action (driver.h's action JSON), given how the last one ended:
   * event {kind: 'ok'|'started'|'error', id, rows, bytes, ms, code, type,
   * message, position} (null for the first call) and its answer's text.  A
   * 'fail' action's position is an index into the script.
   */
  next(event = null, text = '') {
    const ev = new Utf8Text(event ? JSON.stringify(event) : '');
    const action = this.#call('md_wasm_driver_next', [this.#driver, ev, new Utf8Text(text ?? '')], 'json');
    if (action.kind === 'fail' && typeof action.position === 'number' && this.#script) {
      action.position = this.#script.index(action.position);
    }
    return action;
  }

  /** What each statement of the last script did (driver.h: md_driver_summary_json). */
  summary() {
    return this.#call('md_wasm_driver_summary', [this.#driver], 'json');
  }

  /** Most Arrow bytes one bridge may move (0: no limit). */
  setBridgeCap(bytes) {
    this.#mod._md_wasm_driver_set_cap(this.#driver, bytes);
  }

  /** Splitter flags for every hybrid statement (1: the naive fallback plan). */
  setSplitFlags(flags) {
    this.#mod._md_wasm_driver_set_split_flags(this.#driver, flags);
  }

  /** Free the engine; any later call throws. */
  close() {
    if (this.#driver) this.#mod._md_wasm_driver_destroy(this.#driver);
    this.#driver = 0;
    this.#handle = 0;
  }
}
