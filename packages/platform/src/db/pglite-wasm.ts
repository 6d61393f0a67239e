import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PGliteOptions } from '@electric-sql/pglite';

type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;
// The one WebAssembly call used here (the compiler's lib has no WebAssembly types).
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };

/**
 * PGlite's two WebAssembly programs, compiled once per process. WebAssembly.compile runs on V8's background
 * threads, so `bin/launch.js` starts it before loading the rest of the code and the compile overlaps with that;
 * PGlite given a compiled module only has to instantiate it. `initdb` is only needed for a new database.
 */
const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
const compiled = new Map<string, Promise<WasmModule>>();

function compile(file: 'pglite.wasm' | 'initdb.wasm'): Promise<WasmModule> {
  let module = compiled.get(file);
  if (!module) {
    module = readFile(join(dist, file)).then((bytes) => WebAssembly.compile(bytes));
    compiled.set(file, module);
  }
  return module;
}

export const pgliteModule = () => compile('pglite.wasm');
export const initdbModule = () => compile('initdb.wasm');
