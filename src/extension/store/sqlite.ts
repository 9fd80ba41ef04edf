/**
 * Loads sql.js (SQLite compiled to WebAssembly) once per process.
 *
 * The wasm file is looked up next to the running bundle first (dist/ ships a
 * copy) and then in the sql.js package, so the same code serves the bundled
 * extension, the bundled CLI and tests running from source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

const WASM_NAME = 'sql-wasm.wasm';
let loading: Promise<SqlJsStatic> | undefined;

function findWasm(): string {
  const candidates = [path.join(__dirname, WASM_NAME), path.join(__dirname, '..', WASM_NAME)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return require.resolve(`sql.js/dist/${WASM_NAME}`);
}

export function loadSqlite(): Promise<SqlJsStatic> {
  if (!loading) {
    const wasmBinary = fs.readFileSync(findWasm());
    loading = initSqlJs({ wasmBinary: toArrayBuffer(wasmBinary) });
  }
  return loading;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
