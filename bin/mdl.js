#!/usr/bin/env node
// Entry of the `mdl` CLI. Builds the TypeScript once if this checkout has not been built yet, so that
// `npx mdl ...` works straight after `npm ci`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'packages/platform/dist/cli/mdl.js');
if (!existsSync(entry)) {
  process.stderr.write('mdl: first run, compiling TypeScript…\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', 'packages/protocol', 'packages/platform'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await import(pathToFileURL(entry).href);
