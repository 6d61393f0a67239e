import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';

/**
 * Starting PGlite quickly.
 * - Its two WebAssembly programs are compiled once per process. WebAssembly.compile runs on V8's background
 *   threads, so `bin/launch.js` starts it before loading the rest of the code and the compile overlaps with that
 *   (it leaves the promise in the same global map).
 * - 32 MB of shared buffers instead of PGlite's 128 MB: the embedded database is small, the operating system caches
 *   its files anyway, and zeroing the buffers is a large part of opening it.
 * - A new database (in memory for the tests, or a new data directory) starts from a copy of a freshly initialised
 *   cluster, kept in node_modules/.cache/mdl-pglite/ per PGlite version, instead of running initdb each time:
 *   PGlite itself runs initdb in a separate instance and loads the result, which is what the copy is. The first
 *   initdb on the machine makes the copy.
 */
type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;
// The one WebAssembly call used here (the compiler's lib has no WebAssembly types).
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };

const require = createRequire(import.meta.url);
const dist = dirname(require.resolve('@electric-sql/pglite'));
// Kept on a global so that bin/launch.js can start the compile before this module (bundled or not) is loaded.
const compiled: Map<string, Promise<WasmModule>> = ((globalThis as Record<symbol, unknown>)[Symbol.for('mdl.pglite.wasm')] ??=
  new Map()) as Map<string, Promise<WasmModule>>;

function compile(file: 'pglite.wasm' | 'initdb.wasm'): Promise<WasmModule> {
  let module = compiled.get(file);
  if (!module) {
    module = readFile(join(dist, file)).then((bytes) => WebAssembly.compile(bytes));
    compiled.set(file, module);
  }
  return module;
}

export const pgliteModule = () => compile('pglite.wasm');

function templateFile(): string {
  const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  return join(dist, '..', '..', '..', '.cache', 'mdl-pglite', `cluster-${version}.tar`);
}

/** A started PGlite on `files` (a folder), or in memory when undefined. */
export async function startPGlite(files: string | undefined): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const template = !files || !existsSync(join(files, 'PG_VERSION')) ? templateFile() : undefined;
  const cached = template && existsSync(template) ? readFileSync(template) : undefined;
  const fresh = template !== undefined && !cached;
  // One options object: PGlite ignores the second argument when the first (the folder) is undefined.
  const pgl = new PGlite({
    ...(files ? { dataDir: files } : {}),
    pgliteWasmModule: await pgliteModule(),
    ...(fresh ? { initdbWasmModule: await compile('initdb.wasm') } : {}),
    ...(cached ? { loadDataDir: new Blob([cached]) } : {}),
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'],
  });
  await pgl.waitReady;
  if (template && !cached) await keepTemplate(pgl, template);
  return pgl;
}

/** Written aside and renamed (processes starting together may all get here); a cache that cannot be written is no error. */
async function keepTemplate(pgl: PGlite, template: string): Promise<void> {
  try {
    await pgl.exec('CHECKPOINT'); // the copy then needs no recovery
    const dump = Buffer.from(await (await pgl.dumpDataDir('none')).arrayBuffer());
    mkdirSync(dirname(template), { recursive: true });
    writeFileSync(`${template}.${process.pid}`, dump);
    renameSync(`${template}.${process.pid}`, template);
  } catch {
    rmSync(`${template}.${process.pid}`, { force: true });
  }
}
