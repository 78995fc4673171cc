// errors.js: the one error class of the page's JavaScript.  Every failure,
// wherever it happens (duckdb-wasm, the server, the WASM engine, the session
// worker), is an MdError whose code is a stable name of shared/md_error.h,
// the same codes the server sends in its ERROR messages.

import { ERRORS } from './protocol.js';

export class MdError extends Error {
  /**
   * @param {{code?: string, message?: string, position?: number, type?: string}} detail
   *   code: a wire name of shared/md_error.h (an unknown one becomes INTERNAL);
   *   message: what happened (the code's default sentence when absent);
   *   position: where in the SQL, as a character offset; type: DuckDB's error type.
   */
  constructor({ code = 'INTERNAL', message, position, type } = {}) {
    const known = Object.hasOwn(ERRORS, code);
    super(message ?? (known ? ERRORS[code].message : code));
    this.name = 'MdError';
    this.code = known ? code : 'INTERNAL';
    if (typeof position === 'number' && position >= 0) this.position = position;
    if (type !== undefined) this.type = type;
  }

  /** The C status (negative MD_E... value) of this code. */
  get status() {
    return ERRORS[this.code].status;
  }
}

/** A new MdError with `code` and `message` (the code's own sentence by default). */
export const mdError = (code, message) => new MdError({ code, message });
