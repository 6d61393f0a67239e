// Shared by the CLI entry points: builds the TypeScript once if this checkout has not been built yet
// (so `npx mdl …` works straight after `npm ci`), then runs the compiled CLI as the program.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `projects`: the TypeScript projects the entry needs, built when the entry is missing. */
export async function launch(relativeEntry, projects) {
  const entry = join(root, relativeEntry);
  if (!existsSync(entry)) {
    process.stderr.write('first run: compiling TypeScript…\n');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-b', '--force', ...projects], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  // On the embedded database, PGlite's WebAssembly compiles on background threads while the code loads.
  if (relativeEntry.includes('platform') && !process.env.DATABASE_URL) {
    const { pgliteModule } = await import(pathToFileURL(join(root, 'packages/platform/dist/db/pglite-boot.js')).href);
    pgliteModule().catch(() => {}); // a failure shows where the database is opened
  }
  // The CLIs run their main only when they are the program (not when imported by tests).
  process.argv[1] = entry;
  await import(pathToFileURL(entry).href);
}
