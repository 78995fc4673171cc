// The page's duckdb-wasm module (built into build/ui/vendor/duckdb/duckdb.mjs
// by the Makefile with esbuild): duckdb-wasm's browser build, plus the Arrow
// IPC writer of the very apache-arrow copy duckdb-wasm uses (the Makefile
// aliases 'apache-arrow' to it), so that tables duckdb-wasm returns can be
// sent to the server as Arrow IPC streams (UPLOAD, the browser-to-server
// bridge of dual execution).
export * from '../node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser.mjs';
export { tableToIPC } from 'apache-arrow';
