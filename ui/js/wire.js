// wire.js: the frame format of shared/protocol.h for JavaScript clients (the
// page and the Node tests).  The message table comes from protocol.js, which
// the build prints from shared/protocol.h (scripts/gen_protocol_js.c).

import { HEADER_SIZE, MESSAGES, MSG, PROTOCOL_VERSION } from './protocol.js';

export { HEADER_SIZE, MSG, PROTOCOL_VERSION };

export const MSG_NAME = Object.freeze(Object.fromEntries(Object.entries(MESSAGES).map(([k, v]) => [k, v.name])));

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
  const json = MESSAGES[type]?.payload === 'json' ? JSON.parse(utf8d.decode(payload)) : undefined;
  return { type, name: MSG_NAME[type] ?? `0x${type.toString(16)}`, id, payload, json };
}

/** The Arrow IPC end-of-stream marker. */
export const ARROW_EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** Does decoded frame `f` end the request it answers (shared/protocol.h's ends column)? */
export function endsRequest(f) {
  const ends = MESSAGES[f.type]?.ends;
  return f.id !== 0 && (ends === 'yes' || (ends === 'if_final' && f.json?.final === true));
}
