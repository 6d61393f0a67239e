// Shared by the CLI entry points: builds the TypeScript once if this checkout has not been built yet
// (so `npx mdl …` works straight after `npm ci`), then runs the compiled CLI as the program.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function launch(relativeEntry) {
  const entry = join(root, relativeEntry);
  if (!existsSync(entry)) {
    process.stderr.write('first run: compiling TypeScript…\n');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-b', '--force', 'packages/protocol', 'packages/platform', 'packages/hospital'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  // The CLIs run their main only when they are the program (not when imported by tests).
  process.argv[1] = entry;
  await import(pathToFileURL(entry).href);
}
