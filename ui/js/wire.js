// wire.js: the frame format of shared/protocol.h for JavaScript clients (the
// page and the Node tests).  Message codes must match MD_MSG_LIST in
// shared/protocol.h; tests/blackbox/protocol.test.mjs checks that they do.

export const HEADER_SIZE = 16;
export const PROTOCOL_VERSION = 1;

export const MSG = Object.freeze({
  HELLO: 0x01, WELCOME: 0x02,
  QUERY: 0x10, RESULT_SCHEMA: 0x11, RESULT_BATCH: 0x12, RESULT_END: 0x13,
  PROGRESS: 0x14, ERROR: 0x15, CANCEL: 0x16,
  CATALOG: 0x20, PARSE: 0x21, DEPARSE: 0x22, UPLOAD: 0x23,
  PING: 0x30, PONG: 0x31, SESSION: 0x40,
});

export const MSG_NAME = Object.freeze(Object.fromEntries(Object.entries(MSG).map(([k, v]) => [v, k])));

const JSON_TYPES = new Set([MSG.HELLO, MSG.WELCOME, MSG.QUERY, MSG.RESULT_END, MSG.PROGRESS, MSG.ERROR,
  MSG.CANCEL, MSG.CATALOG, MSG.PARSE, MSG.DEPARSE, MSG.SESSION]);

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Encode one frame. `payload` is a Uint8Array, or an object sent as JSON. */
export function encodeFrame(type, requestId, payload = new Uint8Array(0)) {
  const body = payload instanceof Uint8Array ? payload : utf8.encode(JSON.stringify(payload));
  const out = new Uint8Array(HEADER_SIZE + body.length);
  const dv = new DataView(out.buffer);
  out[0] = 0x4d; out[1] = 0x44; out[2] = PROTOCOL_VERSION; out[3] = type;
  dv.setUint32(4, 0, true);
  dv.setUint32(8, requestId >>> 0, true);
  dv.setUint32(12, body.length, true);
  out.set(body, HEADER_SIZE);
  return out;
}

/**
 * Decode one frame from a Uint8Array.  Returns {type, name, id, payload, json}
 * where json is the parsed object for control messages.  Throws on a bad header.
 */
export function decodeFrame(bytes) {
  if (bytes.length < HEADER_SIZE) throw new Error(`frame of ${bytes.length} bytes is shorter than its header`);
  if (bytes[0] !== 0x4d || bytes[1] !== 0x44) throw new Error('bad frame magic');
  if (bytes[2] !== PROTOCOL_VERSION) throw new Error(`unsupported protocol version ${bytes[2]}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = bytes[3];
  const id = dv.getUint32(8, true);
  const len = dv.getUint32(12, true);
  if (len !== bytes.length - HEADER_SIZE) throw new Error('frame length does not match its message');
  const payload = bytes.subarray(HEADER_SIZE);
  const json = JSON_TYPES.has(type) ? JSON.parse(utf8d.decode(payload)) : undefined;
  return { type, name: MSG_NAME[type] ?? `0x${type.toString(16)}`, id, payload, json };
}

/** The Arrow IPC end-of-stream marker. */
export const ARROW_EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
