// The page's duckdb-wasm module (built into build/ui/vendor/duckdb/duckdb.mjs
// by the Makefile with esbuild): duckdb-wasm's browser build, plus the Arrow
// IPC stream reader of the very apache-arrow copy duckdb-wasm uses (the
// Makefile aliases 'apache-arrow' to it), which counts the rows of a result
// going to the server as DuckDB's own IPC bytes (UPLOAD, the browser-to-server
// bridge of dual execution).
export * from '../node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser.mjs';
export { RecordBatchReader } from 'apache-arrow';
