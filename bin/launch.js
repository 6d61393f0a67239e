// Shared by the CLI entry points: builds the TypeScript once if this checkout has not been built yet
// (so `npx mdl …` works straight after `npm ci`), then runs the compiled CLI as the program.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { ensurePlatformBundle, platformBundle } from './bundle.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `projects`: the TypeScript projects the entry needs, built when the entry is missing. The platform CLI runs
 * from its one-file bundle (bin/bundle.js), rebuilt when a source changed, where esbuild is installed.
 */
export async function launch(relativeEntry, projects) {
  let entry = join(root, relativeEntry);
  const platform = relativeEntry.includes('platform');
  // On the embedded database, PGlite's WebAssembly compiles on background threads while the code loads.
  if (platform && !process.env.DATABASE_URL) precompilePGlite();
  if (platform && (await ensurePlatformBundle().catch(bundleFailed))) entry = platformBundle;
  else if (!existsSync(entry)) {
    process.stderr.write('first run: compiling TypeScript…\n');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-b', '--force', ...projects], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  // The CLIs run their main only when they are the program (not when imported by tests).
  process.argv[1] = entry;
  await import(pathToFileURL(entry).href);
}

/**
 * Starts compiling PGlite's WebAssembly and leaves the promise where db/pglite-boot.ts looks first (a global:
 * the bundle and the compiled files each have their own copy of that module).
 */
/* global WebAssembly */
function precompilePGlite() {
  const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  const compiling = readFile(join(dist, 'pglite.wasm')).then((bytes) => WebAssembly.compile(bytes));
  compiling.catch(() => {}); // a failure shows where the database is opened
  (globalThis[Symbol.for('mdl.pglite.wasm')] ??= new Map()).set('pglite.wasm', compiling);
}

/** A bundle that cannot be built is no reason not to start: the compiled files run instead. */
function bundleFailed(err) {
  process.stderr.write(`could not bundle the platform (${err.message}); running the compiled files\n`);
  return false;
}
